"""K-means clustering selection (Song et al., 2024; Ge et al., 2024; NovelSum Appx. A.3).

The pool's embeddings are partitioned into k clusters (FAISS k-means, seeded); the budget is split evenly,
budget // k per cluster with the remainder given one each to seeded-random clusters; a cluster smaller than its
share gives the surplus to the clusters that still have samples (again evenly, remainder at random). Within a
cluster the samples are drawn uniformly without replacement. The returned order is a seeded shuffle.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import faiss
import numpy as np

from selection_ops.data_model import PoolView
from selection_ops.registry import register_selector
from selection_ops.similarity import unit_embeddings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class KMeansParams:
    clusters: int = field(default=100, metadata={"help": "k: number of k-means clusters (NovelSum: 100 or 1000)"})
    iterations: int = field(default=20, metadata={"help": "k-means (Lloyd) iterations"})
    normalize: bool = field(default=True, metadata={
        "help": "cluster L2-normalised embeddings (cosine geometry) instead of the raw vectors"})


def kmeans_labels(vectors: np.ndarray, clusters: int, iterations: int, seed: int) -> np.ndarray:
    """Cluster id per row of ``vectors`` (n, d) from seeded FAISS k-means: (n,) int64."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    kmeans = faiss.Kmeans(vectors.shape[1], clusters, niter=iterations, seed=seed % 2**31, verbose=False)
    kmeans.train(vectors)
    _, labels = kmeans.index.search(vectors, 1)
    return labels[:, 0].astype(np.int64)


def cluster_quotas(sizes: np.ndarray, budget: int, rng: np.random.Generator) -> np.ndarray:
    """Samples to draw per cluster: even split, remainder to random clusters, surplus of small clusters spread.

    sizes: (k,) cluster sizes with sizes.sum() >= budget. Returns (k,) int64 quotas, quota <= size, sum == budget.
    """
    quotas = np.zeros(len(sizes), dtype=np.int64)
    remaining = budget
    while remaining > 0:
        open_clusters = np.flatnonzero(quotas < sizes)
        share = remaining // len(open_clusters)
        if share == 0:
            quotas[rng.choice(open_clusters, size=remaining, replace=False)] += 1
            break
        added = np.minimum(share, sizes[open_clusters] - quotas[open_clusters])
        quotas[open_clusters] += added
        remaining -= int(added.sum())
    return quotas


@register_selector("kmeans", KMeansParams, needs=("embeddings",))
def select_kmeans(pool: PoolView, budget: int, seed: int, params: KMeansParams) -> np.ndarray:
    """K-means: k clusters on the embeddings, budget/k samples drawn at random from each (seeded)."""
    if not 1 <= params.clusters <= len(pool):
        raise ValueError(f"kmeans: 'clusters' must be in [1, {len(pool)}] (the pool size), got {params.clusters}")
    vectors = unit_embeddings(pool) if params.normalize else np.asarray(pool.embeddings, dtype=np.float32)
    labels = kmeans_labels(vectors, params.clusters, params.iterations, seed)
    rng = np.random.default_rng(seed)
    quotas = cluster_quotas(np.bincount(labels, minlength=params.clusters), budget, rng)
    members = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[members], np.arange(params.clusters + 1))
    picked = [rng.choice(members[bounds[c]:bounds[c + 1]], size=quotas[c], replace=False)
              for c in np.flatnonzero(quotas)]
    sizes = np.diff(bounds)
    logger.info("kmeans: %d clusters, sizes %d..%d, quotas %d..%d", params.clusters, sizes.min(), sizes.max(),
                quotas.min(), quotas.max())
    return rng.permutation(np.concatenate(picked))
