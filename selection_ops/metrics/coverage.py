"""Distribution-based diversity against the reference pool: facility location and partition entropy
(NovelSum Sec. 2.1, Eq. 3-4, Appx. A.2).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from selection_ops.data_model import PoolView
from selection_ops.metrics._inputs import embeddings_of, require_rows
from selection_ops.metrics._kmeans import assign, auto_cluster_count, kmeans_centroids
from selection_ops.metrics._value import MeasuredValue
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


ENTROPY_PAPER_CLUSTERS = 1000  # NovelSum Appx. A.2, for the 10,000-sample subsets of a 396K pool (Sec. 2.2)
ENTROPY_SAMPLES_PER_CLUSTER = 10  # subset samples per cluster there: 10,000 / 1,000


@dataclass(frozen=True)
class PartitionEntropyParams:
    clusters: int | None = field(default=None, metadata={
        "help": "k-means clusters of the pool (at most its distinct rows); None: the paper's 1,000, or "
                "max(2, n // 10) for a subset of n < 10,000 samples"})
    seed: int = field(default=0, metadata={"help": "seed of the k-means initialisation"})
    niter: int = field(default=25, metadata={"help": "k-means iterations"})
    normalize: bool = field(default=False, metadata={"help": "cluster unit-norm rows instead of raw embeddings"})


@register_metric("partition_entropy", PartitionEntropyParams, needs=("embeddings",), needs_reference_pool=True)
def partition_entropy(subset: PoolView, pool: PoolView, params: PartitionEntropyParams) -> MeasuredValue:
    """Partition entropy (Eq. 4): -sum_k p_k ln p_k, p_k the share of subset samples in k-means cluster k of the pool.

    The pool is clustered into K clusters: the paper's 1,000 (Appx. A.2) for subsets of 10,000 and more, else
    ``auto_cluster_count`` (10 subset samples per cluster, at least 2), since with K >= n every subset of distinct
    rows scores ln n; at most the pool's distinct rows. Each subset row goes to its nearest centroid. Natural log, so
    the maximum is ln(min(K, n)). The clustering is memoised per pool; the value's ``details`` say which K was used.
    """
    require_rows(subset, "partition_entropy", 1)
    if params.clusters is not None and params.clusters < 1:
        raise ValueError(f"metric partition_entropy: clusters must be >= 1, got {params.clusters}")
    subset_matrix = embeddings_of(subset, "partition_entropy", normalize=params.normalize)
    pool_matrix = embeddings_of(pool, "partition_entropy", normalize=params.normalize, role="reference pool")
    requested = params.clusters if params.clusters is not None else auto_cluster_count(
        ENTROPY_PAPER_CLUSTERS, len(subset_matrix), ENTROPY_SAMPLES_PER_CLUSTER)
    centroids = kmeans_centroids(pool_matrix, requested, seed=params.seed, niter=params.niter)
    cluster, _ = assign(subset_matrix, centroids)
    share = np.bincount(cluster, minlength=len(centroids)) / len(cluster)
    share = share[share > 0]
    return MeasuredValue(float(-(share * np.log(share)).sum()), clusters=len(centroids), clusters_requested=requested,
                         clusters_rule="given" if params.clusters is not None else
                         f"min({ENTROPY_PAPER_CLUSTERS}, max(2, n // {ENTROPY_SAMPLES_PER_CLUSTER})), "
                         f"n = {len(subset_matrix)}")
