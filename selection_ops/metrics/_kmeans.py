"""Weighted k-means on distinct rows (FAISS) for partition entropy; the cluster-count rule, distinct-row and
nearest-centroid helpers shared with cluster inertia. Registers nothing.

Rows are collapsed to their distinct values with multiplicities as weights before clustering: the objective is
unchanged, and a Duplicate-style subset (m distinct rows repeated) cannot seed two centroids on the same point,
so with k = m the clustering is exact (inertia 0). k is capped at the number of distinct rows.
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict

import faiss
import numpy as np

from selection_ops.neighbors import faiss_gpu_available, knn_search

logger = logging.getLogger(__name__)

_CACHE_SIZE = 4
MIN_AUTO_CLUSTERS = 2  # a partition into one cluster says nothing about spread or balance


def auto_cluster_count(paper_count: int, samples: int, samples_per_cluster: int) -> int:
    """The paper's cluster count where the data supports it, else fewer: K = min(paper_count, max(2, floor(samples /
    samples_per_cluster))), where samples_per_cluster is the paper's own ratio (NovelSum Sec. 2.2: 10,000-sample
    subsets; Appx. A.2: 200 clusters for cluster inertia = 50 per cluster, 1,000 for partition entropy = 10).

    At the paper's subset size the paper's count comes out; on a small pool, where 200 or 1,000 clusters would make
    every sample its own cluster (inertia 0, entropy ln n on every subset), the same ratio is kept instead.
    """
    if paper_count < 1 or samples_per_cluster < 1:
        raise ValueError(f"cluster count rule needs paper_count >= 1 and samples_per_cluster >= 1, "
                         f"got {paper_count} and {samples_per_cluster}")
    return min(paper_count, max(MIN_AUTO_CLUSTERS, samples // samples_per_cluster))
_centroid_cache: OrderedDict[tuple, np.ndarray] = OrderedDict()


def distinct_rows_with_counts(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(u, d) distinct rows (first-occurrence order) and (u,) float32 multiplicities of an (n, d) float32 matrix."""
    matrix = np.ascontiguousarray(matrix, dtype=np.float32)
    row_bytes = matrix.view(np.dtype((np.void, matrix.dtype.itemsize * matrix.shape[1]))).ravel()
    _, first, counts = np.unique(row_bytes, return_index=True, return_counts=True)
    order = np.argsort(first)
    return matrix[first[order]], counts[order].astype(np.float32)


def kmeans_centroids(matrix: np.ndarray, n_clusters: int, *, seed: int, niter: int = 25) -> np.ndarray:
    """k-means centroids of (n, d) rows: (min(n_clusters, distinct rows), d) float32; FAISS, GPU when present.

    Memoised on the data's fingerprint and the settings, so a pool clustered once (partition entropy) is reused
    across the subsets measured against it in one process.
    """
    matrix = np.ascontiguousarray(matrix, dtype=np.float32)
    key = (hashlib.blake2b(matrix.tobytes(), digest_size=16).hexdigest(), matrix.shape, n_clusters, seed, niter)
    if key in _centroid_cache:
        _centroid_cache.move_to_end(key)
        return _centroid_cache[key]
    distinct, counts = distinct_rows_with_counts(matrix)
    k = min(n_clusters, len(distinct))
    if k == len(distinct):
        centroids = distinct.copy()  # every distinct row is its own cluster: the exact optimum
    else:
        logger.info("k-means: %d distinct rows (of %d) into %d clusters, dim %d", len(distinct), len(matrix), k,
                    matrix.shape[1])
        kmeans = faiss.Kmeans(matrix.shape[1], k, niter=niter, seed=seed, verbose=False,
                              min_points_per_centroid=1,  # FAISS keeps its seeded subsample of 256 rows per centroid
                              gpu=faiss_gpu_available())
        kmeans.train(distinct, weights=counts)
        centroids = np.ascontiguousarray(kmeans.centroids, dtype=np.float32)
    _centroid_cache[key] = centroids
    while len(_centroid_cache) > _CACHE_SIZE:
        _centroid_cache.popitem(last=False)
    return centroids


def assign(matrix: np.ndarray, centroids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest centroid per row: (n,) int64 cluster ids and (n,) float64 squared distances (exact flat search)."""
    sq_dist, nearest = knn_search(matrix, centroids, 1)
    return nearest[:, 0], np.maximum(sq_dist[:, 0].astype(np.float64), 0.0)
