"""CaR, Clustering and Ranking (Ge et al., 2024; official IronBeliever/CaR ``Clustering/cluster.py``).

Embeddings are reduced by PCA keeping 95% of the variance, clustered by k-means with k = int(sqrt(N / 2)) (both
``random_state`` 42), and the selection is the top-n samples by quality plus the top-1 sample of every cluster whose
best sample is not already among them. n is the smallest count for which that total meets the budget exactly: the
total n + #(clusters whose best is outside the top-n) grows by 0 or 1 per extra n, from k at n = 0 to N, so every
budget in [k, N] is reached exactly. For a budget below k, the budget best cluster representatives are taken.
Order: the top-n in quality order, then the added representatives in quality order. Ties go to the lowest row.
The official code clusters the raw sentence-transformer vectors, so no normalisation is applied here either.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA

from selection_ops.data_model import PoolView
from selection_ops.registry import register_selector

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CarParams:
    variance: float = field(default=0.95, metadata={"help": "fraction of variance PCA keeps (CaR: 0.95)"})
    random_state: int = field(default=42, metadata={
        "help": "random_state of PCA and k-means (CaR: 42); CaR is deterministic, the run seed is not used"})
    n_init: int = field(default=1, metadata={
        "help": "k-means restarts; the official run used scikit-learn's then-default 10 (slow on large pools)"})


def car_clusters(embeddings: np.ndarray, variance: float, random_state: int, n_init: int) -> np.ndarray:
    """Cluster id per sample: PCA(variance) then KMeans(k = int(sqrt(N / 2))). (n, d) -> (n,) int64."""
    n = len(embeddings)
    clusters = max(1, int(math.sqrt(n / 2)))
    reduced = PCA(n_components=variance, random_state=random_state).fit_transform(np.asarray(embeddings, np.float64))
    logger.info("car: PCA kept %d of %d dims; k-means with k=%d", reduced.shape[1], embeddings.shape[1], clusters)
    return KMeans(n_clusters=clusters, random_state=random_state, n_init=n_init).fit_predict(reduced).astype(np.int64)


def car_pick(quality: np.ndarray, labels: np.ndarray, budget: int) -> np.ndarray:
    """Top-n by quality plus each cluster's best outside them, n chosen so the count is exactly ``budget``.

    quality: (N,) float64; labels: (N,) int64 cluster ids. Returns (budget,) int64 rows.
    """
    order = np.argsort(-quality, kind="stable")  # rows by quality, best first, ties by row
    first_seen = np.unique(labels[order], return_index=True)[1]
    is_representative = np.zeros(len(order), dtype=bool)  # in quality order: best of its cluster
    is_representative[first_seen] = True
    n_clusters = len(first_seen)
    if budget <= n_clusters:
        return order[is_representative][:budget]
    # total(n) = n + clusters - (representatives among the first n); find the smallest n where it equals budget
    totals = np.arange(1, len(order) + 1) + n_clusters - np.cumsum(is_representative)
    top_n = int(np.searchsorted(totals, budget)) + 1
    rest = order[top_n:][is_representative[top_n:]]
    return np.concatenate([order[:top_n], rest])


@register_selector("car", CarParams, needs=("embeddings", "score"))
def select_car(pool: PoolView, budget: int, seed: int, params: CarParams) -> np.ndarray:
    """CaR: PCA + k-means (k = sqrt(N/2)), top-n by quality plus the best of each remaining cluster."""
    labels = car_clusters(np.asarray(pool.embeddings), params.variance, params.random_state, params.n_init)
    return car_pick(pool.column("score"), labels, budget)
