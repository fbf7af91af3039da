"""Distribution-based diversity against the reference pool: facility location and partition entropy
(NovelSum Sec. 2.1, Eq. 3-4, Appx. A.2).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from selection_ops.data_model import PoolView
from selection_ops.metrics._inputs import embeddings_of, require_rows
from selection_ops.metrics._kmeans import assign, kmeans_centroids
from selection_ops.registry import NoParams, register_metric
from selection_ops.similarity import max_similarity


@register_metric("facility_location", NoParams, needs=("embeddings",), needs_reference_pool=True)
def facility_location(subset: PoolView, pool: PoolView, params: NoParams) -> float:
    """Facility location (Eq. 3), similarity form: sum over pool samples of their max cosine similarity to the subset.

    Eq. 3 prints a sum of min distances, but the paper's Table 1 values (~3e5 for a 396K pool, higher for better
    coverage) are sums of max similarities, the QDIT/Bukharin et al. form f(A) = sum_j max_{i in A} sim(j, i), which
    this returns (no clamping of negative similarities). The max is taken in (block, block) products
    (``selection_ops.similarity.max_similarity``), so no (N, n) matrix is held.
    """
    require_rows(subset, "facility_location", 1)
    subset_unit = embeddings_of(subset, "facility_location", normalize=True)
    pool_unit = embeddings_of(pool, "facility_location", normalize=True, role="reference pool")
    return float(max_similarity(pool_unit, subset_unit).astype(np.float64).sum())


@dataclass(frozen=True)
class PartitionEntropyParams:
    clusters: int = field(default=1000, metadata={"help": "k-means clusters of the pool (at most its distinct rows)"})
    seed: int = field(default=0, metadata={"help": "seed of the k-means initialisation"})
    niter: int = field(default=25, metadata={"help": "k-means iterations"})
    normalize: bool = field(default=False, metadata={"help": "cluster unit-norm rows instead of raw embeddings"})


@register_metric("partition_entropy", PartitionEntropyParams, needs=("embeddings",), needs_reference_pool=True)
def partition_entropy(subset: PoolView, pool: PoolView, params: PartitionEntropyParams) -> float:
    """Partition entropy (Eq. 4): -sum_k p_k ln p_k, p_k the share of subset samples in k-means cluster k of the pool.

    The pool is clustered into 1,000 clusters (Appx. A.2; fewer when it has fewer distinct rows); each subset row goes
    to its nearest centroid. Natural log, so the maximum is ln(min(K, n)). The clustering is memoised per pool.
    """
    require_rows(subset, "partition_entropy", 1)
    if params.clusters < 1:
        raise ValueError(f"metric partition_entropy: clusters must be >= 1, got {params.clusters}")
    subset_matrix = embeddings_of(subset, "partition_entropy", normalize=params.normalize)
    pool_matrix = embeddings_of(pool, "partition_entropy", normalize=params.normalize, role="reference pool")
    centroids = kmeans_centroids(pool_matrix, params.clusters, seed=params.seed, niter=params.niter)
    cluster, _ = assign(subset_matrix, centroids)
    share = np.bincount(cluster, minlength=len(centroids)) / len(cluster)
    share = share[share > 0]
    return float(-(share * np.log(share)).sum())
