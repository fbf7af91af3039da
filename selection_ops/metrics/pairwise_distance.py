"""Distance-based diversity: DistSum (cosine, L2) and KNN distance (NovelSum Sec. 2.1, Eq. 1-2, Appx. A.2).

DistSum is reported as the *mean* over ordered pairs i != j (Eq. 1's sum divided by n(n - 1)); the paper's Table 1
values (0.6-0.75 for DistSum_cosine) are on that scale, and it keeps subsets of different sizes comparable.
Both DistSum forms use closed forms over the sums of the rows, O(n d), never the (n, n) matrix:

    sum_{i,j} (1 - cos_ij)       = n^2 - ||sum_i u_i||^2                       (u_i unit rows)
    sum_{i,j} ||x_i - x_j||^2    = 2 n sum_i ||x_i||^2 - 2 ||sum_i x_i||^2     (Appx. A.2: squared Euclidean)

the diagonal terms being 0 in both. Repeated rows count as the pairs they are (distance 0).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from selection_ops.data_model import PoolView
from selection_ops.metrics._inputs import embeddings_of, require_rows
from selection_ops.neighbors import knn_search
from selection_ops.registry import NoParams, register_metric

_BLOCK = 2048  # rows per block of the (block, n) product in the non-squared L2 sum


@register_metric("distsum_cosine", NoParams, needs=("embeddings",))
def distsum_cosine(subset: PoolView, pool: PoolView, params: NoParams) -> float:
    """DistSum_cosine (Eq. 1): mean cosine distance 1 - cos(x_i, x_j) over ordered pairs i != j."""
    require_rows(subset, "distsum_cosine", 2)
    unit = embeddings_of(subset, "distsum_cosine", normalize=True).astype(np.float64)
    n = len(unit)
    total = unit.sum(axis=0)
    off_diagonal_similarity = float(total @ total) - float((unit * unit).sum())
    return 1.0 - off_diagonal_similarity / (n * (n - 1))


@dataclass(frozen=True)
class DistSumL2Params:
    squared: bool = field(default=True, metadata={"help": "squared Euclidean distance, as Appx. A.2 defines it"})


def _mean_pairwise_euclidean(matrix: np.ndarray) -> float:
    """Mean of ||x_i - x_j||_2 over i != j, in (block, n) products: (n, d) float64 -> float."""
    n = len(matrix)
    sq_norms = (matrix * matrix).sum(axis=1)
    total = 0.0
    for start in range(0, n, _BLOCK):
        block = matrix[start:start + _BLOCK]
        sq = sq_norms[start:start + len(block), None] + sq_norms[None, :] - 2.0 * (block @ matrix.T)
        rows = np.arange(len(block))
        sq[rows, start + rows] = 0.0
        total += float(np.sqrt(np.maximum(sq, 0.0)).sum())
    return total / (n * (n - 1))


@register_metric("distsum_l2", DistSumL2Params, needs=("embeddings",))
def distsum_l2(subset: PoolView, pool: PoolView, params: DistSumL2Params) -> float:
    """DistSum_L2 (Eq. 1): mean (squared, by default) Euclidean distance over ordered pairs i != j."""
    require_rows(subset, "distsum_l2", 2)
    matrix = embeddings_of(subset, "distsum_l2", normalize=False).astype(np.float64)
    n = len(matrix)
    if not params.squared:
        return _mean_pairwise_euclidean(matrix)
    total = matrix.sum(axis=0)
    pair_sum = 2.0 * n * float((matrix * matrix).sum()) - 2.0 * float(total @ total)
    return max(pair_sum, 0.0) / (n * (n - 1))


@dataclass(frozen=True)
class KnnDistanceParams:
    k: int = field(default=1, metadata={"help": "distance to the k-th nearest other sample (Eq. 2; k = 1)"})
    distance: Literal["cosine", "l2"] = field(default="cosine", metadata={"help": "cosine or Euclidean distance"})


@register_metric("knn_distance", KnnDistanceParams, needs=("embeddings",))
def knn_distance(subset: PoolView, pool: PoolView, params: KnnDistanceParams) -> float:
    """KNN distance (Eq. 2): mean over samples of the distance to their k-th nearest other sample in the subset.

    A repeated row has its copy at distance 0 (the paper's point that KNN distance nullifies redundant samples).
    """
    require_rows(subset, "knn_distance", params.k + 1)
    cosine = params.distance == "cosine"
    matrix = embeddings_of(subset, "knn_distance", normalize=cosine)
    sq_l2, _ = knn_search(matrix, matrix, params.k, exclude_self=True)
    kth = np.maximum(sq_l2[:, params.k - 1].astype(np.float64), 0.0)
    return float((kth / 2.0 if cosine else np.sqrt(kth)).mean())  # unit rows: ||u - v||^2 = 2 (1 - cos)
