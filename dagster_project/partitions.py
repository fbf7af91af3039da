"""The grid as Dagster partitions: one matrix, variant x budget, shared by selection, training and evaluation.

The budget dimension also carries the seed (``b32``, ``b32-s1``, ...: ``dagster_project.grid`` formats the keys):
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

from dagster_project.grid import (
    GridSpec,
    budget_key,
    cell_key,
    parse_budget_key,
    parse_selection_key,
    selection_key,
)

VARIANT_DIM = "variant"
BUDGET_DIM = "budget"


def grid_partitions(grid: GridSpec) -> MultiPartitionsDefinition:
    return MultiPartitionsDefinition({
        VARIANT_DIM: StaticPartitionsDefinition(grid.variant_names),
        BUDGET_DIM: StaticPartitionsDefinition(grid.budget_keys()),
    })


def partition_for(selection: str) -> MultiPartitionKey:
    """``"mig__b32-s1"`` -> the matrix key {variant: mig, budget: b32-s1} (its string is ``b32-s1|mig``)."""
    variant, budget, seed = parse_selection_key(selection)
    return MultiPartitionKey({VARIANT_DIM: variant, BUDGET_DIM: budget_key(budget, seed)})


def selection_of(partition_key: Any) -> str:
    """The matrix key (a ``MultiPartitionKey`` or its string ``b32-s1|mig``) -> ``"mig__b32-s1"``."""
    if isinstance(partition_key, MultiPartitionKey):
        dims = partition_key.keys_by_dimension
    else:
        budget, variant = str(partition_key).split("|")  # dimensions are joined in name order: budget, variant
        dims = {BUDGET_DIM: budget, VARIANT_DIM: variant}
    budget, seed = parse_budget_key(dims[BUDGET_DIM])
    return selection_key(dims[VARIANT_DIM], budget, seed)


def cell_of(partition_key: Any, model: str) -> str:
    """The matrix key and a base model -> the trained cell ``"mig__b32-s1__smollm2-135m"``."""
    variant, budget, seed = parse_selection_key(selection_of(partition_key))
    return cell_key(variant, budget, model, seed)


def model_prefix(model: str) -> str:
    """The asset-key prefix of a base model's training and evaluation assets."""
    return model
