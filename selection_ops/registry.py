"""One registry for selectors and diversity metrics: name -> typed callable.

Selector contract: ``select(pool, budget, seed, params) -> np.ndarray`` of pool row indices in selection order
(int64, unique unless the spec says ``allows_repeats``). ``run_selector`` maps them to ids, checks the budget and
the declared needs, so each selector module only holds its algorithm.

Metric contract: ``compute(subset, pool, params) -> float`` where ``subset`` is the selection's PoolView (rows in
selection order, repeats kept) and ``pool`` the reference pool (metrics that do not need one ignore it). A metric
that resolves a setting from the data returns a ``MeasuredValue`` (a float with ``details``; ``metric_details``).

Params are frozen dataclasses; every field has a default and ``metadata={"help": ...}``. CLI strings
("true", "0.9", "pow") are coerced to the field's type by ``parse_params``.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import numpy as np

from selection_ops.data_model import PoolView

P = TypeVar("P")


@dataclass(frozen=True)
class NoParams:
    """For selectors and metrics without parameters."""


@dataclass(frozen=True)
class SelectorSpec(Generic[P]):
    name: str
    select: Callable[[PoolView, int, int, P], np.ndarray]
    params_type: type[P]
    needs: tuple[str, ...]
    description: str
    allows_repeats: bool = False
    # Optional (pool, budget, params) -> params: settles "auto" choices before selection so they are recorded.
    resolve: Callable[[PoolView, int, P], P] | None = None
    # Set when the selector needs an annotation the default annotators do not compute: why ``selectors: [all]``
    # leaves it out and how to enable it (a grid that lists it by name includes it).
    opt_in: str | None = None


@dataclass(frozen=True)
class MetricSpec(Generic[P]):
    name: str
    compute: Callable[[PoolView, PoolView, P], float]
    params_type: type[P]
    needs: tuple[str, ...]
    description: str
    needs_reference_pool: bool = False


SELECTORS: dict[str, SelectorSpec] = {}
METRICS: dict[str, MetricSpec] = {}


@dataclass(frozen=True)
class SelectionResult:
    """The ordered selection and the fully resolved parameters that produced it."""

    method: str
    ids: list[str]
    indices: np.ndarray  # (budget,) int64 pool rows in selection order
    params: dict[str, Any]
    seed: int


def register_selector(name: str, params_type: type = NoParams, needs: tuple[str, ...] = (),
                      allows_repeats: bool = False, resolve: Callable | None = None,
                      opt_in: str | None = None) -> Callable:
    """Decorator: ``@register_selector("qdit", QditParams, needs=("embeddings", "score"))``.

    ``resolve(pool, budget, params) -> params`` (optional) replaces "auto" values by the concrete choice for this
    pool (e.g. QDIT's kernel), so ``SelectionResult.params`` records what actually ran. ``opt_in``: see
    ``SelectorSpec.opt_in``.
    """

    def wrap(fn: Callable) -> Callable:
        if name in SELECTORS:
            raise ValueError(f"selector {name!r} registered twice")
        SELECTORS[name] = SelectorSpec(name, fn, params_type, needs, (fn.__doc__ or "").strip().split("\n")[0],
                                       allows_repeats, resolve, opt_in)
        return fn

    return wrap


def register_metric(name: str, params_type: type = NoParams, needs: tuple[str, ...] = (),
                    needs_reference_pool: bool = False) -> Callable:
    """Decorator: ``@register_metric("novelsum", NovelSumParams, needs=("embeddings",),
    needs_reference_pool=True)``."""

    def wrap(fn: Callable) -> Callable:
        if name in METRICS:
            raise ValueError(f"metric {name!r} registered twice")
        METRICS[name] = MetricSpec(name, fn, params_type, needs, (fn.__doc__ or "").strip().split("\n")[0],
                                   needs_reference_pool)
        return fn

    return wrap


def _load_builtin_modules() -> None:
    """Import the modules that register the built-in selectors and metrics (idempotent)."""
    import selection_ops.metrics  # noqa: F401
    import selection_ops.selectors  # noqa: F401


def get_selector(name: str) -> SelectorSpec:
    _load_builtin_modules()
    if name not in SELECTORS:
        raise KeyError(f"unknown selector {name!r}; known: {', '.join(sorted(SELECTORS))}")
    return SELECTORS[name]


def get_metric(name: str) -> MetricSpec:
    _load_builtin_modules()
    if name not in METRICS:
        raise KeyError(f"unknown metric {name!r}; known: {', '.join(sorted(METRICS))}")
    return METRICS[name]


def selector_names() -> list[str]:
    _load_builtin_modules()
    return sorted(SELECTORS)


def metric_names() -> list[str]:
    _load_builtin_modules()
    return sorted(METRICS)


def _coerce(value: Any, annotation: Any, owner: str, field_name: str) -> Any:
    """A CLI/config value converted to the dataclass field's declared type."""
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        choices = typing.get_args(annotation)
        if value not in choices:
            raise ValueError(f"{owner}: parameter {field_name!r} must be one of {choices}, got {value!r}")
        return value
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if value is None or (isinstance(value, str) and value.lower() in ("none", "null", "")):
            return None
        return _coerce(value, args[0], owner, field_name)
    try:
        if annotation is bool:
            if isinstance(value, str):
                if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError(value)
                return value.lower() in ("true", "1", "yes")
            return bool(value)
        if annotation in (int, float, str):
            if annotation is int and isinstance(value, float) and not value.is_integer():
                raise ValueError(value)
            return annotation(value)
    except (TypeError, ValueError):
        raise ValueError(f"{owner}: parameter {field_name!r} expects {annotation.__name__}, got {value!r}") from None
    return value


def parse_params(params_type: type[P], values: Mapping[str, Any] | None, owner: str) -> P:
    """``params_type(**values)`` with string values coerced and unknown names rejected (naming the known ones)."""
    values = dict(values or {})
    hints = typing.get_type_hints(params_type)
    fields = {f.name: f for f in dataclasses.fields(params_type)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ValueError(f"{owner}: unknown parameter(s) {unknown}; known: {sorted(fields)}")
    return params_type(**{k: _coerce(v, hints[k], owner, k) for k, v in values.items()})


def run_selector(name: str, pool: PoolView, budget: int, *, seed: int = 0,
                 params: Mapping[str, Any] | None = None) -> SelectionResult:
    """Select ``budget`` samples from ``pool`` with selector ``name``; the checks every selector shares."""
    spec = get_selector(name)
    if not isinstance(budget, (int, np.integer)) or budget < 1:
        raise ValueError(f"{name}: budget must be a positive integer, got {budget!r}")
    if budget > len(pool) and not spec.allows_repeats:
        raise ValueError(f"{name}: budget {budget} is larger than the pool ({len(pool)} samples)")
    pool.require(name, *spec.needs)
    typed = parse_params(spec.params_type, params, name)
    if spec.resolve is not None:
        typed = spec.resolve(pool, int(budget), typed)
    indices = np.asarray(spec.select(pool, int(budget), int(seed), typed), dtype=np.int64)
    if len(indices) != budget:
        raise AssertionError(f"{name} returned {len(indices)} samples for budget {budget}")
    if not spec.allows_repeats and len(np.unique(indices)) != len(indices):
        raise AssertionError(f"{name} returned repeated samples")
    return SelectionResult(name, [pool.ids[i] for i in indices.tolist()], indices, dataclasses.asdict(typed), seed)


def measure(subset: PoolView, pool: PoolView | None, metrics: list[str],
            params: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, float]:
    """Each named metric of ``subset`` (against ``pool`` where the metric needs a reference)."""
    params = params or {}
    results: dict[str, float] = {}
    for name in metrics:
        spec = get_metric(name)
        if spec.needs_reference_pool and pool is None:
            raise ValueError(f"metric {name} needs the reference pool")
        subset.require(f"metric {name}", *spec.needs)
        typed = parse_params(spec.params_type, params.get(name), f"metric {name}")
        value = spec.compute(subset, pool if pool is not None else subset, typed)
        results[name] = value if isinstance(value, float) else float(value)  # a MeasuredValue keeps its details
    return results


def metric_details(results: Mapping[str, float]) -> dict[str, dict[str, Any]]:
    """The ``details`` of the values ``measure`` returned that carry some (e.g. the cluster count a rule chose)."""
    return {name: dict(value.details) for name, value in results.items() if getattr(value, "details", None)}
