"""The study grid: selector variants x budgets x base models, read from a YAML file.

A grid file names

    study: my-study                  # slug; one Dagster instance, one storage folder, one MLflow experiment
    seed: 0
    pool: {limit_per_source: 100}
    selectors: [all]                 # one variant per registered selector (named after it), default parameters
    selector_params: {duplicate: {unique: 4}}   # parameters of those plain variants
    variants:                        # more variants: a selector plus parameters ...
      mig-t085: {selector: mig, params: {threshold: 0.85}}
      mig-sweep:                     # ... or a sweep: every combination becomes one named variant,
        selector: mig                #     mig-sweep-threshold0.9-phi_b0.6, mig-sweep-threshold0.9-phi_b0.8, ...
        sweep: {threshold: [0.9, 0.95], phi_b: [0.6, 0.8]}
    train: [mig, random]             # variants the main job trains by default (every selection can be trained)
    budgets: [32]
    seeds: [0, 1, 2]                 # each selection and fine-tune repeated per seed (default: [seed], one seed)
    base_models: {smollm2-135m: embedded}   # key -> HF id, local path, or "embedded"
    pool_row: true                   # also fine-tune each base model on the whole pool (MIG Table 1's "Pool" row)

A selection is keyed ``<variant>__<budget key>`` (``mig__b32``, ``mig__b32-s1`` at another seed), a trained cell
``<variant>__<budget key>__<model>``: ``selection_ops.study.cells`` formats and parses every key;
``assets.partitions`` maps them to Dagster's matrix.
``train_selectors`` is read as ``train`` (older grids).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from selection_ops.foundation.paths import REPO_ROOT
from selection_ops.study.cells import SEPARATOR, SLUG, BudgetRef, CellRef, SelectionRef

GRID_ENV = "INFOSIFT_GRID"
DEFAULT_GRID = REPO_ROOT / "dagster_project" / "grids" / "embedded_default.yaml"
EMBEDDED_MODEL = "embedded"
# The resource sections a grid may carry (typed and checked by dagster_project.study) and every top-level key.
SECTION_NAMES = ("annotation", "training", "evaluation", "judge", "execution")
TOP_LEVEL_KEYS = ("study", "description", "profile", "seed", "seeds", "pool", "selectors", "selector_params",
                  "variants", "train", "train_selectors", "budgets", "base_models", "pool_row", "performance",
                  *SECTION_NAMES)
POOL_KEYS = ("limit_per_source", "sources")


@dataclass(frozen=True)
class Variant:
    """One row of the selection grid: a selector with fixed parameters (CLI names, string values)."""

    name: str
    selector: str
    params: tuple[tuple[str, str], ...] = ()

    @property
    def param_dict(self) -> dict[str, str]:
        return dict(self.params)

    def fingerprint(self) -> str:
        """Hash of what defines the variant's selections; it is the Dagster data version of its spec."""
        return digest({"selector": self.selector, "params": self.param_dict})


@dataclass(frozen=True)
class GridSpec:
    """A study: which selections exist (variants x budgets) and which base models any of them may train."""

    study: str
    seed: int
    variants: tuple[Variant, ...]
    budgets: tuple[int, ...]
    base_models: Mapping[str, str]  # model key -> HF id, local path, or "embedded"
    train: tuple[str, ...]  # variants the main job trains by default
    seeds: tuple[int, ...] = ()  # every selection and fine-tune is repeated per seed; () = (seed,)
    pool_limit_per_source: int | None = None
    left_out: tuple[str, ...] = ()  # one line per selector the grid left out, saying how to enable it
    pool_row: bool = False  # fine-tune each base model on the whole pool too: the report's "Pool" reference row
    source_path: Path = field(default=DEFAULT_GRID)
    profile: str | None = None  # the resource preset the grid names (dagster_project/profiles/<profile>.yaml)
    # the grid's resource sections as written (annotation, training, evaluation, judge, execution): typed and
    # checked by dagster_project.study, which lays them over the profile
    sections: Mapping[str, Any] = field(default_factory=dict)
    pool_sources: tuple[Mapping[str, Any], ...] = ()  # pool.sources: the pool's files or Hub datasets; () = default
    description: str = ""
    # what the report correlates the metrics with: avg / avg_obj / avg_sub (MIG A.4), zsum (NovelSum Eq. 5: the sum
    # of each preference benchmark's z-scores), any score column; None = avg when both halves exist, else avg_obj
    performance: str | None = None

    @property
    def variant_names(self) -> list[str]:
        return [v.name for v in self.variants]

    def variant(self, name: str) -> Variant:
        for variant in self.variants:
            if variant.name == name:
                return variant
        raise KeyError(f"{self.source_path}: no variant {name!r}; variants: {', '.join(self.variant_names)}")

    @property
    def repeat_seeds(self) -> tuple[int, ...]:
        """The seeds each selection and fine-tune is repeated over, in grid order: ``seeds``, else ``(seed,)``."""
        return self.seeds or (self.seed,)

    def key_seed(self, seed: int) -> int | None:
        """``seed`` as keys carry it: None (no suffix) for the grid's own ``seed``, else the seed."""
        return None if seed == self.seed else seed

    def seed_of(self, key_seed: int | None) -> int:
        """The seed a key names: the grid's own ``seed`` for a key without a seed suffix."""
        return self.seed if key_seed is None else key_seed

    def budget_keys(self) -> list[str]:
        """The budget dimension of the matrix: ``b<budget>`` then ``b<budget>-s<seed>`` per other seed."""
        return [BudgetRef(b, self.key_seed(s)).key for b in self.budgets for s in self.repeat_seeds]

    def selection_keys(self) -> list[str]:
        """``<variant>__<budget key>`` for every variant, budget and seed, in grid order."""
        return [SelectionRef(v.name, b, self.key_seed(s)).key
                for v in self.variants for b in self.budgets for s in self.repeat_seeds]

    def default_training_keys(self) -> list[str]:
        """``<variant>__<budget key>__<model>`` for the default training set (every seed), in grid order."""
        return [CellRef(v, b, m, self.key_seed(s)).key
                for v in self.train for b in self.budgets for s in self.repeat_seeds for m in self.base_models]

    def fingerprint(self) -> str:
        extra = {"seeds": self.seeds} if self.repeat_seeds != (self.seed,) else {}  # a one-seed grid's is unchanged
        return digest({"seed": self.seed, "variants": [(v.name, v.selector, v.params) for v in self.variants],
                       "budgets": self.budgets, "base_models": dict(self.base_models),
                       "pool": self.pool_limit_per_source, **extra})


def digest(value: Any, length: int = 12) -> str:
    """A short, stable sha256 of a JSON-able value (keys sorted)."""
    text = json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:length]


class GridError(ValueError):
    """A grid file that cannot be a study; the message names the file and the field."""


def grid_path() -> Path:
    """The grid this process uses: ``$INFOSIFT_GRID`` or the embedded default."""
    return Path(os.environ.get(GRID_ENV) or DEFAULT_GRID).resolve()


def _slug(text: Any) -> str:
    return re.sub(r"_{2,}", "_", re.sub(r"[^a-z0-9._-]+", "-", str(text).lower())).strip("-_")


def _check_slug(path: Path, what: str, value: str) -> str:
    if not SLUG.match(value) or SEPARATOR in value:
        raise GridError(f"{path}: {what} {value!r} is not a slug [a-z0-9._-] without '__' (it joins keys)")
    return value


def _params(path: Path, owner: str, raw: Any) -> tuple[tuple[str, str], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, Mapping):
        raise GridError(f"{path}: params of {owner!r} must be a mapping, got {raw!r}")
    return tuple(sorted((str(k), str(v)) for k, v in raw.items()))


def _sweep(path: Path, name: str, selector: str, base: tuple, sweep: Any) -> list[Variant]:
    """Every combination of the swept values, each a variant named ``<name>-<param><value>-...``."""
    if not isinstance(sweep, Mapping) or not sweep or not all(isinstance(v, list) and v for v in sweep.values()):
        raise GridError(f"{path}: variants.{name}.sweep must map parameter names to non-empty lists")
    names = list(sweep)
    variants = []
    for values in itertools.product(*(sweep[n] for n in names)):
        suffix = "-".join(f"{_slug(n)}{_slug(v)}" for n, v in zip(names, values, strict=True))
        params = dict(base) | {str(n): str(v) for n, v in zip(names, values, strict=True)}
        variants.append(Variant(f"{name}-{suffix}", selector, tuple(sorted(params.items()))))
    return variants


def _is_seed(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _seeds(path: Path, raw: Any) -> tuple[int, ...]:
    """``seeds``: a non-empty list of unique non-negative integers (YAML ints, not strings or booleans)."""
    if not isinstance(raw, list) or not raw or not all(_is_seed(s) for s in raw):
        raise GridError(f"{path}: seeds must be a non-empty list of non-negative integers, got {raw!r}")
    if len(set(raw)) != len(raw):
        raise GridError(f"{path}: seeds must be unique, got {raw!r}")
    return tuple(raw)


def load_grid(path: Path | None = None) -> GridSpec:
    """Read and check a grid YAML (see the module docstring); GridError names the file and the field."""
    from selection_ops.registry import selector_names

    path = Path(path).resolve() if path else grid_path()
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise GridError(f"{path}: cannot read the grid ({error})") from None
    if not isinstance(raw, Mapping) or "study" not in raw or "budgets" not in raw:
        raise GridError(f"{path}: a grid is a mapping with at least `study` and `budgets`")
    check_known_keys(path, "", raw, TOP_LEVEL_KEYS)
    pool = raw.get("pool") or {}
    if not isinstance(pool, Mapping):
        raise GridError(f"{path}: pool must be a mapping with keys {', '.join(POOL_KEYS)}, got {pool!r}")
    check_known_keys(path, "pool.", pool, POOL_KEYS)
    sections = {}
    for name in SECTION_NAMES:
        body = raw.get(name)
        if body is None:
            continue
        if not isinstance(body, Mapping):
            raise GridError(f"{path}: {name} must be a mapping of settings, got {body!r}")
        sections[name] = dict(body)
    profile = raw.get("profile")
    if profile is not None and not isinstance(profile, str):
        raise GridError(f"{path}: profile must be the name of a preset, got {profile!r}")
    from selection_ops.registry import get_selector

    known = selector_names()
    opt_in = {name: get_selector(name).opt_in for name in known if get_selector(name).opt_in}  # each selector's own
    study = _check_slug(path, "study", str(raw["study"]))
    listed = raw.get("selectors", ["all"] if "variants" not in raw else [])
    left_out: list[str] = []
    if listed == ["all"]:
        left_out = [opt_in[s] for s in known if s in opt_in]
        listed = [s for s in known if s not in opt_in]
    plain_params = raw.get("selector_params") or {}
    for name in list(listed) + list(plain_params):
        if name not in known:
            raise GridError(f"{path}: unknown selector {name!r}; known: {', '.join(known)}")
    variants = [Variant(s, s, _params(path, s, plain_params.get(s))) for s in listed]
    for name, body in (raw.get("variants") or {}).items():
        name = _check_slug(path, "variant", str(name))
        if not isinstance(body, Mapping) or body.get("selector") not in known:
            raise GridError(f"{path}: variants.{name}.selector must be one of {', '.join(known)}")
        base = _params(path, name, body.get("params"))
        if "sweep" in body:
            variants.extend(_sweep(path, name, body["selector"], base, body["sweep"]))
        else:
            variants.append(Variant(name, body["selector"], base))
    names = [v.name for v in variants]
    if len(set(names)) != len(names) or not names:
        raise GridError(f"{path}: variant names must be unique and at least one: {names}")
    for name in names:
        _check_slug(path, "variant", name)
    train = [str(t) for t in raw.get("train", raw.get("train_selectors", names))]
    if not set(train) <= set(names):
        raise GridError(f"{path}: train names {sorted(set(train) - set(names))}, which are not variants of the grid")
    models = {str(k): str(v) for k, v in (raw.get("base_models") or {"embedded": EMBEDDED_MODEL}).items()}
    for key in models:
        _check_slug(path, "base model key", key)
    try:
        budgets = tuple(int(b) for b in raw["budgets"])
    except (TypeError, ValueError):
        raise GridError(f"{path}: budgets must be a list of integers, got {raw['budgets']!r}") from None
    if not budgets or any(b < 1 for b in budgets):
        raise GridError(f"{path}: budgets must be positive, got {budgets}")
    pool_row = raw.get("pool_row", False)
    if not isinstance(pool_row, bool):
        raise GridError(f"{path}: pool_row must be true or false, got {pool_row!r}")
    try:
        seed = int(raw.get("seed", 0))  # coerced as before seeds were an axis: a grid that loaded still loads
    except (TypeError, ValueError):
        seed = -1
    if seed < 0:
        raise GridError(f"{path}: seed must be a non-negative integer, got {raw.get('seed')!r}")
    seeds = _seeds(path, raw["seeds"]) if "seeds" in raw else ()
    return GridSpec(study=study, seed=seed, variants=tuple(variants), budgets=budgets,
                    base_models=models, train=tuple(train), seeds=seeds, pool_row=pool_row,
                    pool_limit_per_source=pool.get("limit_per_source"), left_out=tuple(left_out), source_path=path,
                    profile=profile, sections=sections, pool_sources=_pool_sources(path, pool.get("sources")),
                    description=str(raw.get("description") or "").strip(),
                    performance=_performance(path, raw.get("performance")))


def _performance(path: Path, raw: Any) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or not SLUG.match(raw.replace("/", ".")):
        raise GridError(f"{path}: performance must be avg, avg_obj, avg_sub, zsum or a score column, got {raw!r}")
    return raw


def check_known_keys(path: Path, prefix: str, raw: Mapping, allowed: Sequence[str]) -> None:
    """GridError naming the first key of ``raw`` not in ``allowed``, with what is allowed and the closest match."""
    import difflib

    for key in raw:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise GridError(f"{path}: unknown key {prefix}{key}{hint}; allowed: {', '.join(allowed)}")


POOL_SOURCE_KEYS = ("name", "path", "hf_id", "split", "format", "limit", "size")


def _pool_sources(path: Path, raw: Any) -> tuple[Mapping[str, Any], ...]:
    """``pool.sources``: a list of ``{name, hf_id and/or path, format, limit, size}``; a ``path`` (a local copy)
    wins over the ``hf_id`` it stands for; ``size`` is the source's record count, for the plan's estimates."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or not raw:
        raise GridError(f"{path}: pool.sources must be a non-empty list of sources, got {raw!r}")
    sources = []
    for index, source in enumerate(raw):
        where = f"pool.sources[{index}]"
        if not isinstance(source, Mapping):
            raise GridError(f"{path}: {where} must be a mapping, got {source!r}")
        check_known_keys(path, f"{where}.", source, POOL_SOURCE_KEYS)
        if not source.get("path") and not source.get("hf_id"):
            raise GridError(f"{path}: {where} needs a path (a local file) or an hf_id (a Hub dataset)")
        try:
            pool_source(source, seed=0)
        except (TypeError, ValueError) as error:
            raise GridError(f"{path}: {where}: {error}") from None
        sources.append(dict(source))
    return tuple(sources)


def pool_source(source: Mapping[str, Any], seed: int):
    """A grid's ``pool.sources`` entry as a ``PoolSource``: the local ``path`` when given, else the Hub ``hf_id``."""
    from selection_ops.pool.spec import PoolSource

    location = {"path": str(source["path"])} if source.get("path") else \
        {"hf_id": str(source["hf_id"]), "hf_split": str(source.get("split") or "train")}
    limit = source.get("limit")
    return PoolSource(**location, format=source.get("format") or "auto", name=source.get("name"),
                      limit=limit, seed=seed if limit is not None else None)
