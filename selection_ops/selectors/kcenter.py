"""K-Center-Greedy (Sener & Savarese, 2017; as run in NovelSum Appx. A.3).

A seeded random first point, then repeatedly the point farthest from the selection: the one whose minimum cosine
distance (1 - cos) to the selected points is largest. Each step updates the running (n,) minimum with the distances
to the one new centre, so a step costs one (n, d) x (d,) product instead of a recompute against all centres (on
torch when a CUDA GPU is present). Ties go to the lowest pool row.
"""

from __future__ import annotations

import logging

import numpy as np
from tqdm.auto import tqdm

from selection_ops.data_model import PoolView
from selection_ops.foundation.devices import cuda_available
from selection_ops.registry import NoParams, register_selector
from selection_ops.similarity import max_similarity, unit_embeddings

logger = logging.getLogger(__name__)


def kcenter_greedy(unit: np.ndarray, budget: int, first: int) -> np.ndarray:
    """Greedy farthest-point order on unit rows (n, d) from row ``first``: (budget,) int64 rows."""
    picked = np.empty(budget, dtype=np.int64)
    picked[0] = first
    min_distance = 1.0 - unit @ unit[first]  # (n,) cosine distance to the nearest selected point
    min_distance[first] = -np.inf  # selected rows can never win again
    for step in tqdm(range(1, budget), desc="k-center greedy", unit="sample", disable=budget < 2_000):
        chosen = int(np.argmax(min_distance))
        picked[step] = chosen
        np.minimum(min_distance, 1.0 - unit @ unit[chosen], out=min_distance)
        min_distance[chosen] = -np.inf
    return picked


def kcenter_greedy_torch(unit: np.ndarray, budget: int, first: int, device: str = "cuda") -> np.ndarray:
    """``kcenter_greedy`` on torch (used on a CUDA GPU): the same running minimum, the pool held on ``device``."""
    import torch

    unit_t = torch.from_numpy(np.ascontiguousarray(unit, dtype=np.float32)).to(device)
    picked = np.empty(budget, dtype=np.int64)
    picked[0] = first
    min_distance = 1.0 - unit_t @ unit_t[first]
    min_distance[first] = -torch.inf
    for step in tqdm(range(1, budget), desc="k-center greedy (torch)", unit="sample", disable=budget < 2_000):
        chosen = int(torch.argmax(min_distance))
        picked[step] = chosen
        torch.minimum(min_distance, 1.0 - unit_t @ unit_t[chosen], out=min_distance)
        min_distance[chosen] = -torch.inf
    return picked


def kcenter_recompute(unit: np.ndarray, budget: int, first: int) -> np.ndarray:
    """The reference: every step recomputes each row's min distance to all selected points (blocked). Same result."""
    picked = [first]
    for _ in range(1, budget):
        nearest = 1.0 - max_similarity(unit, unit[picked])
        nearest[picked] = -np.inf
        picked.append(int(np.argmax(nearest)))
    return np.asarray(picked, dtype=np.int64)


@register_selector("kcenter", NoParams, needs=("embeddings",))
def select_kcenter(pool: PoolView, budget: int, seed: int, params: NoParams) -> np.ndarray:
    """K-Center-Greedy: seeded first point, then the point with the largest min cosine distance to the selection."""
    first = int(np.random.default_rng(seed).integers(len(pool)))
    if cuda_available():
        return kcenter_greedy_torch(unit_embeddings(pool), budget, first)
    return kcenter_greedy(unit_embeddings(pool), budget, first)
