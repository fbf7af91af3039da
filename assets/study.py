"""A study's scope as the assets see it: the grid (variants x budgets x base models), its keys and partitions, and
the names every asset shares (groups, the concurrency pool, run tags).

The grid is read from YAML by ``dagster_project.grid``; assets only receive the ``GridSpec``. Keys are slugs
``[a-z0-9._-]`` joined with ``__``: a selection is ``<variant>__b<budget>`` (``mig__b32``), a trained cell
``<variant>__b<budget>__<model>``. In Dagster the grid is one matrix, variant x budget (a
``MultiPartitionsDefinition``) shared by selection, training and evaluation; training and evaluation have one
asset per base model (``<model>/fine_tuned_model``), so a cell is (asset = base model, partition = variant x
budget), lineage is the identity mapping, and one job runs selection -> training -> evaluation for any row, column
or the whole matrix. (Dagster maps multi-partitions dimension to dimension only, so (variant, budget) could not map
onto one "selection" dimension of a selection x base-model matrix.)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dagster import MultiPartitionKey, MultiPartitionsDefinition, StaticPartitionsDefinition

GROUP_POOL = "pool"
GROUP_ANNOTATION = "annotation"
GROUP_LABEL_GRAPH = "label_graph"
GROUP_SELECTION = "selection"
GROUP_TRAINING = "training"
GROUP_EVALUATION = "evaluation"
GROUP_REPORT = "report"
PARQUET_IO_MANAGER = "parquet_io_manager"
# Training and evaluation hold the machine's accelerator (or all its CPU cores): one pool for both, whose limit the
# project's dagster.yaml sets (1 on a CPU machine, the number of GPUs otherwise).
ACCELERATOR_POOL = "accelerator"
STUDY_RUN_TAG = "infosift/study"
EMBEDDED_MODEL = "embedded"
VARIANT_DIM = "variant"
BUDGET_DIM = "budget"


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
    pool_limit_per_source: int | None = None
    left_out: tuple[str, ...] = ()  # one line per selector the grid left out, saying how to enable it
    source_path: Path = field(default=Path("grid.yaml"))

    @property
    def variant_names(self) -> list[str]:
        return [v.name for v in self.variants]

    def variant(self, name: str) -> Variant:
        for variant in self.variants:
            if variant.name == name:
                return variant
        raise KeyError(f"{self.source_path}: no variant {name!r}; variants: {', '.join(self.variant_names)}")

    def selection_keys(self) -> list[str]:
        return [selection_key(v.name, b) for v in self.variants for b in self.budgets]

    def default_training_keys(self) -> list[str]:
        """``<variant>__b<budget>__<model>`` for the default training set, in grid order."""
        return [cell_key(v, b, m) for v in self.train for b in self.budgets for m in self.base_models]

    def fingerprint(self) -> str:
        return digest({"seed": self.seed, "variants": [(v.name, v.selector, v.params) for v in self.variants],
                       "budgets": self.budgets, "base_models": dict(self.base_models),
                       "pool": self.pool_limit_per_source})


def digest(value: Any, length: int = 12) -> str:
    """A short, stable sha256 of a JSON-able value (keys sorted)."""
    text = json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def budget_key(budget: int) -> str:
    return f"b{budget}"


def selection_key(variant: str, budget: int) -> str:
    return f"{variant}__{budget_key(budget)}"


def cell_key(variant: str, budget: int, model: str) -> str:
    return f"{selection_key(variant, budget)}__{model}"


def parse_selection_key(key: str) -> tuple[str, int]:
    """``"mig__b48"`` -> ``("mig", 48)``."""
    variant, budget = key.split("__")[:2]
    return variant, int(budget.removeprefix("b"))


def parse_cell_key(key: str) -> tuple[str, int, str]:
    """``"mig__b48__smollm2-135m"`` -> ``("mig", 48, "smollm2-135m")``."""
    variant, budget, model = key.split("__")
    return variant, int(budget.removeprefix("b")), model




def grid_partitions(grid: GridSpec) -> MultiPartitionsDefinition:
    return MultiPartitionsDefinition({
        VARIANT_DIM: StaticPartitionsDefinition(grid.variant_names),
        BUDGET_DIM: StaticPartitionsDefinition([budget_key(b) for b in grid.budgets]),
    })


def partition_for(selection: str) -> MultiPartitionKey:
    """``"mig__b32"`` -> the matrix key {variant: mig, budget: b32}."""
    variant, budget = parse_selection_key(selection)
    return MultiPartitionKey({VARIANT_DIM: variant, BUDGET_DIM: budget_key(budget)})


def selection_of(partition_key: Any) -> str:
    """The matrix key (a ``MultiPartitionKey`` or its string ``b32|mig``) -> ``"mig__b32"``."""
    if isinstance(partition_key, MultiPartitionKey):
        dims = partition_key.keys_by_dimension
    else:
        budget, variant = str(partition_key).split("|")  # dimensions are joined in name order: budget, variant
        dims = {BUDGET_DIM: budget, VARIANT_DIM: variant}
    return selection_key(dims[VARIANT_DIM], int(dims[BUDGET_DIM].removeprefix("b")))


def model_prefix(model: str) -> str:
    """The asset-key prefix of a base model's training and evaluation assets."""
    return model
