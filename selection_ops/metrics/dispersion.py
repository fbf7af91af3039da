"""Spread of the subset in embedding space: radius and cluster inertia (NovelSum Appx. A.2, Eq. 14 and 16).

Both use the embeddings as given (``emb(x)`` in Eq. 14, 16); ``normalize=True`` measures unit-norm rows instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sklearn.cluster import KMeans

from selection_ops.data_model import PoolView
from selection_ops.metrics._inputs import embeddings_of, require_rows
from selection_ops.metrics._kmeans import assign, auto_cluster_count, distinct_rows_with_counts
from selection_ops.metrics._value import MeasuredValue
from selection_ops.registry import register_metric


@dataclass(frozen=True)
class RadiusParams:
    normalize: bool = field(default=False, metadata={"help": "measure unit-norm rows instead of raw embeddings"})


@register_metric("radius", RadiusParams, needs=("embeddings",))
def radius(subset: PoolView, pool: PoolView, params: RadiusParams) -> float:
    """Radius (Lai et al. 2020; Eq. 16): geometric mean over dimensions of the per-dimension standard deviation.

    sigma_j is the population standard deviation (ddof = 0) of dimension j over the subset; a dimension with no
    spread makes the radius 0. Computed as exp(mean_j log sigma_j) to stay finite for thousands of dimensions.
    """
    require_rows(subset, "radius", 1)
    matrix = embeddings_of(subset, "radius", normalize=params.normalize).astype(np.float64)
    std = matrix.std(axis=0)
    if (std <= 0).any():
        return 0.0
    return float(np.exp(np.log(std).mean()))


INERTIA_PAPER_CLUSTERS = 200  # NovelSum Appx. A.2, for the 10,000-sample subsets of Sec. 2.2
INERTIA_SAMPLES_PER_CLUSTER = 50  # 10,000 / 200


@dataclass(frozen=True)
class ClusterInertiaParams:
    clusters: int | None = field(default=None, metadata={
        "help": "k-means clusters of the subset (at most its distinct rows); None: the paper's 200, or "
                "max(2, n // 50) when the subset has fewer than 50 samples per cluster"})
    seed: int = field(default=0, metadata={"help": "seed of the k-means initialisation"})
    max_iter: int = field(default=300, metadata={"help": "k-means Lloyd iterations at most"})
    normalize: bool = field(default=False, metadata={"help": "cluster unit-norm rows instead of raw embeddings"})


@register_metric("cluster_inertia", ClusterInertiaParams, needs=("embeddings",))
def cluster_inertia(subset: PoolView, pool: PoolView, params: ClusterInertiaParams) -> MeasuredValue:
    """Cluster inertia (Du & Black 2019; Eq. 14): sum of squared distances of subset rows to their k-means centroid.

    K clusters of the subset itself: the paper's 200 (Appx. A.2) for subsets of 10,000 and more, else
    ``auto_cluster_count`` (50 samples per cluster, at least 2); at most the subset's distinct rows (then inertia is
    0). The value's ``details`` say which K was used.
    scikit-learn's k-means++ / Lloyd (one seeded init) on the distinct rows weighted by their multiplicity: on a
    subset-sized problem its k-means++ start matters more than speed (FAISS's random start left inertia ~2x higher
    on clustered data in ``benchmarks/bench_metrics.py``).
    """
    require_rows(subset, "cluster_inertia", 1)
    if params.clusters is not None and params.clusters < 1:
        raise ValueError(f"metric cluster_inertia: clusters must be >= 1, got {params.clusters}")
    matrix = embeddings_of(subset, "cluster_inertia", normalize=params.normalize)
    distinct, counts = distinct_rows_with_counts(matrix)
    requested = params.clusters if params.clusters is not None else auto_cluster_count(
        INERTIA_PAPER_CLUSTERS, len(matrix), INERTIA_SAMPLES_PER_CLUSTER)
    k = min(requested, len(distinct))
    details = {"clusters": k, "clusters_requested": requested,
               "clusters_rule": "given" if params.clusters is not None else
               f"min({INERTIA_PAPER_CLUSTERS}, max(2, n // {INERTIA_SAMPLES_PER_CLUSTER})), n = {len(matrix)}"}
    if k == len(distinct):
        return MeasuredValue(0.0, **details)  # every distinct row is its own centroid
    model = KMeans(n_clusters=k, n_init=1, max_iter=params.max_iter, random_state=params.seed)
    model.fit(distinct, sample_weight=counts)
    _, sq_dist = assign(matrix, model.cluster_centers_.astype(np.float32))
    return MeasuredValue(float(sq_dist.sum()), **details)
