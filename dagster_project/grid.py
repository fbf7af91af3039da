"""The study grid: selectors x budgets x base models, loaded from YAML, and the partition keys it implies.

Keys are slugs joined with ``__``: a selection is ``<selector>__b<budget>`` (e.g. ``mig__b48``), a trained model
``<selector>__b<budget>__<model>`` (e.g. ``mig__b48__smollm2-135m``). ``$INFOSIFT_GRID`` names another YAML file.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from dagster_project.paths import REPO_ROOT

DEFAULT_GRID = REPO_ROOT / "dagster_project" / "grids" / "embedded_default.yaml"
EMBEDDED_MODEL = "embedded"
_SLUG = re.compile(r"^[a-z0-9._-]+$")


@dataclass(frozen=True)
class GridSpec:
    """A study: which selections to make and which of them to train and evaluate on which base models."""

    study: str
    seed: int
    selectors: tuple[str, ...]
    train_selectors: tuple[str, ...]
    budgets: tuple[int, ...]
    base_models: dict[str, str]  # model key -> HF id, local path, or "embedded"
    pool_limit_per_source: int | None = None
    selector_params: dict[str, dict[str, str]] = field(default_factory=dict)  # selector -> {param: value}
    source_path: Path = field(default=DEFAULT_GRID)

    def selection_keys(self) -> list[str]:
        return [selection_key(s, b) for s in self.selectors for b in self.budgets]

    def training_keys(self) -> list[str]:
        return [f"{selection_key(s, b)}__{m}" for s in self.train_selectors for b in self.budgets
                for m in self.base_models]


def selection_key(selector: str, budget: int) -> str:
    return f"{selector}__b{budget}"


def parse_selection_key(key: str) -> tuple[str, int]:
    """``"mig__b48"`` -> ``("mig", 48)``."""
    selector, budget = key.split("__")[:2]
    return selector, int(budget.removeprefix("b"))


def parse_training_key(key: str) -> tuple[str, int, str]:
    """``"mig__b48__smollm2-135m"`` -> ``("mig", 48, "smollm2-135m")``."""
    selector, budget, model = key.split("__")
    return selector, int(budget.removeprefix("b")), model


def load_grid(path: Path | None = None) -> GridSpec:
    """Read and check a grid YAML; ``selectors: [all]`` expands to every registered selector."""
    from selection_ops.registry import selector_names

    path = Path(path or os.environ.get("INFOSIFT_GRID") or DEFAULT_GRID)
    raw = yaml.safe_load(path.read_text())
    known = selector_names()
    selectors = known if raw.get("selectors", ["all"]) == ["all"] else list(raw["selectors"])
    train = list(raw.get("train_selectors", selectors))
    for name in selectors + train:
        if name not in known:
            raise ValueError(f"{path}: unknown selector {name!r}; known: {', '.join(known)}")
    if not set(train) <= set(selectors):
        raise ValueError(f"{path}: train_selectors {sorted(set(train) - set(selectors))} are not in selectors")
    models = {str(k): str(v) for k, v in (raw.get("base_models") or {EMBEDDED_MODEL: EMBEDDED_MODEL}).items()}
    for key in list(models) + [str(raw.get("study", ""))]:
        if not _SLUG.match(key):
            raise ValueError(f"{path}: {key!r} is not a slug [a-z0-9._-]")
    budgets = tuple(int(b) for b in raw["budgets"])
    if any(b < 1 for b in budgets):
        raise ValueError(f"{path}: budgets must be positive, got {budgets}")
    selector_params = {str(k): {str(p): str(v) for p, v in (params or {}).items()}
                       for k, params in (raw.get("selector_params") or {}).items()}
    for name in selector_params:
        if name not in known:
            raise ValueError(f"{path}: selector_params names unknown selector {name!r}")
    return GridSpec(study=str(raw["study"]), seed=int(raw.get("seed", 0)), selectors=tuple(selectors),
                    train_selectors=tuple(train), budgets=budgets, base_models=models,
                    pool_limit_per_source=(raw.get("pool") or {}).get("limit_per_source"),
                    selector_params=selector_params, source_path=path)
