"""The grid as Dagster partitions: one matrix, variant x budget, shared by selection, training and evaluation.

The budget dimension also carries the seed (``b32``, ``b32-s1``, ...: ``selection_ops.study.cells`` formats the keys):
Dagster allows two dimensions at most, and a seed suffix on the budget keeps a one-seed grid's keys as they were, so
adding seeds to a grid adds columns to the matrix and never re-keys a materialized partition.

Training and evaluation have one asset per base model (``<model>/fine_tuned_model``), partitioned by the same
matrix, so a cell of the study is (asset = base model, partition = variant x budget), lineage is the identity
mapping, and one job runs selection -> training -> evaluation for any row, column or the whole matrix. (Dagster maps
multi-partitions dimension to dimension only, so (variant, budget) could not map onto one "selection" dimension of a
selection x base-model matrix.)
"""

from __future__ import annotations

from typing import Any

from dagster import MultiPartitionKey, MultiPartitionsDefinition, StaticPartitionsDefinition

from selection_ops.study.cells import BudgetRef, SelectionRef
from selection_ops.study.grid import GridSpec

VARIANT_DIM = "variant"
BUDGET_DIM = "budget"


def grid_partitions(grid: GridSpec) -> MultiPartitionsDefinition:
    return MultiPartitionsDefinition({
        VARIANT_DIM: StaticPartitionsDefinition(grid.variant_names),
        BUDGET_DIM: StaticPartitionsDefinition(grid.budget_keys()),
    })


def partition_for(selection: str) -> MultiPartitionKey:
    """``"mig__b32-s1"`` -> the matrix key {variant: mig, budget: b32-s1} (its string is ``b32-s1|mig``)."""
    ref = SelectionRef.parse(selection)
    return MultiPartitionKey({VARIANT_DIM: ref.variant, BUDGET_DIM: ref.budget_key})


def selection_of(partition_key: Any) -> str:
    """The matrix key (a ``MultiPartitionKey`` or its string ``b32-s1|mig``) -> ``"mig__b32-s1"``."""
    if isinstance(partition_key, MultiPartitionKey):
        dims = partition_key.keys_by_dimension
    else:
        budget, variant = str(partition_key).split("|")  # dimensions are joined in name order: budget, variant
        dims = {BUDGET_DIM: budget, VARIANT_DIM: variant}
    return SelectionRef(dims[VARIANT_DIM], *BudgetRef.parse(dims[BUDGET_DIM])).key


def cell_of(partition_key: Any, model: str) -> str:
    """The matrix key and a base model -> the trained cell ``"mig__b32-s1__smollm2-135m"``."""
    return SelectionRef.parse(selection_of(partition_key)).trained_on(model).key


def model_prefix(model: str) -> str:
    """The asset-key prefix of a base model's training and evaluation assets."""
    return model
