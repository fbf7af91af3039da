"""MIG: greedy maximisation of the label-graph information E(D) (MIG, Chen et al. 2025, Sec. 3, Alg. 1).

The pool's label graph (``PoolView.label_graph``) is used when set; otherwise one is built over the pool's labels
with the default offline encoder (all-MiniLM-L6-v2; the paper uses E5-Mistral-7B-Instruct).
"""

from __future__ import annotations

import numpy as np

from selection_ops.data_model import PoolView
from selection_ops.mig.params import MigParams
from selection_ops.mig.pool_graph import pool_label_graph
from selection_ops.mig.sampler import mig_select
from selection_ops.registry import register_selector


@register_selector("mig", MigParams, needs=("labels", "score"))
def select_mig(pool: PoolView, budget: int, seed: int, params: MigParams) -> np.ndarray:
    """MIG: greedy maximum information gain over the label graph (Alg. 1); deterministic, the seed is unused."""
    return mig_select(pool.labels, pool.column("score"), pool_label_graph(pool, params.threshold), budget, params,
                      ids=pool.ids)
