"""Farthest (NovelSum Sec. 2.2 / Appx. A.3 baseline): rank samples by their total distance to all others.

Total cosine distance of row i: sum_j (1 - <u_i, u_j>) = n - <u_i, sum_j u_j> for unit rows u (the self term is 0),
so the ranking costs one (n, d) x (d,) product. The largest totals are taken; ties go to the lowest pool row.
The selection is deterministic (the seed is unused).
"""

from __future__ import annotations

import numpy as np

from selection_ops.data_model import PoolView
from selection_ops.registry import NoParams, register_selector
from selection_ops.similarity import unit_embeddings


def total_cosine_distance(unit: np.ndarray) -> np.ndarray:
    """sum_j (1 - cos(i, j)) for every row of unit rows (n, d): (n,) float64."""
    unit64 = unit.astype(np.float64)
    return len(unit64) - unit64 @ unit64.sum(axis=0)


@register_selector("farthest", NoParams, needs=("embeddings",))
def select_farthest(pool: PoolView, budget: int, seed: int, params: NoParams) -> np.ndarray:
    """Farthest: the ``budget`` samples with the largest total cosine distance to the rest of the pool."""
    return np.argsort(-total_cosine_distance(unit_embeddings(pool)), kind="stable")[:budget]
