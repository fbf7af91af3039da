"""The grid's partitions (one matrix, variant x budget); owned by ``assets.study``, re-exported for the wiring."""

from assets.study import BUDGET_DIM, VARIANT_DIM, grid_partitions, partition_for, selection_of

__all__ = ["BUDGET_DIM", "VARIANT_DIM", "grid_partitions", "partition_for", "selection_of"]
