"""MIG's dataset information E(D) = sum_j phi((sum_{i in D} x_i P)_j) (MIG, Chen et al. 2025, Eq. 8) of a selection.

Measured against the reference pool's label graph (``pool.label_graph``, or one built from the pool's labels with
the default encoder), so selections from the same pool are comparable.
"""

from __future__ import annotations

from selection_ops.data_model import PoolView
from selection_ops.mig.information import information_of
from selection_ops.mig.params import InformationParams
from selection_ops.mig.pool_graph import pool_label_graph
from selection_ops.registry import register_metric


@register_metric("mig_information", InformationParams, needs=("labels", "score"), needs_reference_pool=True)
def mig_information(subset: PoolView, pool: PoolView, params: InformationParams) -> float:
    """MIG dataset information E(D) (Eq. 8) of the subset over the pool's label graph; higher is richer."""
    return information_of(subset.labels, subset.column("score"), pool_label_graph(pool, params.threshold), params,
                          ids=subset.ids)
