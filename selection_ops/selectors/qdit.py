"""QDIT, quality-diversity instruction tuning (Bukharin et al., 2024; MIG Appx. A.1; NovelSum Appx. A.3).

Greedy maximisation of  F(A) = (1 - alpha) * d(A) + alpha * sum_{a in A} q(a)  where

    d(A) = (1/N) sum_{i in pool} max(0, max_{a in A} cos(i, a))        (facility location, negatives clamped to 0)

and q is the quality score min-max normalised to [0, 1] over the pool. d is divided by the pool size N so both terms
live on [0, 1] per sample and alpha trades like for like (alpha = 0.7 for large pools, 0.9 for X_sota; MIG A.1).
The data-selection survey (Qin et al. 2024, Eq. 40) writes d as a plain sum over the pool; with that, a pool of 10^5
samples swamps any quality in [0, 1] and alpha loses its meaning, so the mean is the default and
``diversity_scale="sum"`` gives the literal sum.
The first pick is the sample with the largest total similarity to the pool (NovelSum A.3) plus its quality term.

Lazy greedy (Minoux): F is submodular, so a sample's last computed gain bounds its current one. A heap holds the
bounds; the top few are re-evaluated exactly in one batch (one (N, d) x (d, B) product for the dense kernel) until
the top of the heap is exact for the current selection. Same picks as the plain greedy, far fewer evaluations.

Kernels: "dense" takes cos(i, a) for every pool row (computed on the fly in blocks, never N x N; on torch when a CUDA
GPU is present); "knn" keeps, for
each row i, only its ``neighbors`` nearest samples (FAISS), so a row can only be covered by its neighbours: a sparse
approximation for pools where the dense greedy is too slow. "auto" picks knn above ``knn_above`` rows and the choice
is recorded in the run's params.
"""

from __future__ import annotations

import dataclasses
import heapq
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy import sparse
from tqdm.auto import tqdm

from selection_ops.data_model import PoolView
from selection_ops.foundation.devices import cuda_available
from selection_ops.neighbors import knn_search
from selection_ops.registry import register_selector
from selection_ops.similarity import unit_embeddings

logger = logging.getLogger(__name__)

_COLUMN_BLOCK = 1024  # candidate columns per product when computing the initial (empty-set) gains
_EVAL_BATCH = 8  # heap entries re-evaluated together in one lazy-greedy round


@dataclass(frozen=True)
class QditParams:
    alpha: float = field(default=0.7, metadata={
        "help": "weight of quality vs facility-location diversity (MIG A.1: 0.7 for large pools, 0.9 for X_sota)"})
    kernel: Literal["auto", "dense", "knn"] = field(default="auto", metadata={
        "help": "similarity kernel: dense (exact), knn (sparse, each row keeps its nearest neighbours), "
                "auto (knn above knn_above rows; the run records which)"})
    knn_above: int = field(default=50_000, metadata={"help": "pool size above which kernel=auto picks knn"})
    neighbors: int = field(default=100, metadata={"help": "neighbours per row in the knn kernel"})
    diversity_scale: Literal["mean", "sum"] = field(default="mean", metadata={
        "help": "facility location as the mean over the pool (default, on the quality's [0, 1] scale) or the "
                "literal sum"})


def normalized_quality(score: np.ndarray) -> np.ndarray:
    """Min-max normalised to [0, 1]: (n,) float64; all zeros when the score is constant."""
    score = np.asarray(score, dtype=np.float64)
    span = score.max() - score.min()
    return (score - score.min()) / span if span > 0 else np.zeros_like(score)


class DenseCoverage:
    """Facility-location state over the full cosine kernel of unit rows (n, d); ``covered`` (n,) = max(0, best sim)."""

    def __init__(self, unit: np.ndarray) -> None:
        self.unit = unit
        self.covered = np.zeros(len(unit), dtype=np.float32)

    def initial_gains(self) -> np.ndarray:
        """sum_i max(0, cos(i, x)) for every x, in column blocks: (n,) float64."""
        gains = np.empty(len(self.unit), dtype=np.float64)
        for start in tqdm(range(0, len(self.unit), _COLUMN_BLOCK), desc="qdit initial gains", unit="block",
                          disable=len(self.unit) < 50_000):
            sims = self.unit @ self.unit[start:start + _COLUMN_BLOCK].T
            gains[start:start + _COLUMN_BLOCK] = np.maximum(sims, 0.0).sum(axis=0, dtype=np.float64)
        return gains

    def gains(self, candidates: np.ndarray) -> np.ndarray:
        """sum_i max(0, cos(i, x) - covered_i) for each candidate x: (b,) float64."""
        sims = self.unit @ self.unit[candidates].T
        return np.maximum(sims - self.covered[:, None], 0.0).sum(axis=0, dtype=np.float64)

    def add(self, chosen: int) -> None:
        np.maximum(self.covered, self.unit @ self.unit[chosen], out=self.covered)


class TorchDenseCoverage(DenseCoverage):
    """``DenseCoverage`` with the pool and the coverage held on a torch device (used on a CUDA GPU)."""

    def __init__(self, unit: np.ndarray, device: str = "cuda") -> None:
        import torch

        self.torch = torch
        self.unit_t = torch.from_numpy(np.ascontiguousarray(unit, dtype=np.float32)).to(device)
        self.covered_t = torch.zeros(len(unit), dtype=torch.float32, device=device)
        self.unit = unit

    def initial_gains(self) -> np.ndarray:
        gains = np.empty(len(self.unit), dtype=np.float64)
        for start in range(0, len(self.unit), _COLUMN_BLOCK):
            sims = self.unit_t @ self.unit_t[start:start + _COLUMN_BLOCK].T
            gains[start:start + _COLUMN_BLOCK] = sims.clamp_min(0).sum(dim=0, dtype=self.torch.float64).cpu().numpy()
        return gains

    def gains(self, candidates: np.ndarray) -> np.ndarray:
        sims = self.unit_t @ self.unit_t[self.torch.from_numpy(candidates).to(self.unit_t.device)].T
        margin = (sims - self.covered_t[:, None]).clamp_min(0)
        return margin.sum(dim=0, dtype=self.torch.float64).cpu().numpy()

    def add(self, chosen: int) -> None:
        self.torch.maximum(self.covered_t, self.unit_t @ self.unit_t[chosen], out=self.covered_t)


class KnnCoverage:
    """Facility-location state over a sparse kernel: row i is covered only by its ``neighbors`` nearest samples."""

    def __init__(self, unit: np.ndarray, neighbors: int) -> None:
        n = len(unit)
        distances, indices = knn_search(unit, unit, neighbors, index="auto")  # IVF for very large pools
        similarity = np.maximum(1.0 - distances.astype(np.float64) / 2.0, 0.0)  # unit rows: |a-b|^2 = 2 - 2 cos
        rows = np.repeat(np.arange(n), neighbors)
        # column x lists the rows i that have x among their neighbours, with cos(i, x)
        self.by_column = sparse.csc_matrix((similarity.ravel(), (rows, indices.ravel())), shape=(n, n))
        self.covered = np.zeros(n, dtype=np.float64)

    def initial_gains(self) -> np.ndarray:
        return np.asarray(self.by_column.sum(axis=0)).ravel()

    def gains(self, candidates: np.ndarray) -> np.ndarray:
        indptr = self.by_column.indptr
        starts, lengths = indptr[candidates], indptr[candidates + 1] - indptr[candidates]
        owner = np.repeat(np.arange(len(candidates)), lengths)
        entry = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
        rows, sims = self.by_column.indices[entry], self.by_column.data[entry]
        return np.bincount(owner, weights=np.maximum(sims - self.covered[rows], 0.0), minlength=len(candidates))

    def add(self, chosen: int) -> None:
        start, stop = self.by_column.indptr[chosen], self.by_column.indptr[chosen + 1]
        rows = self.by_column.indices[start:stop]
        self.covered[rows] = np.maximum(self.covered[rows], self.by_column.data[start:stop])


def lazy_greedy(initial_gains: np.ndarray, gains: Callable[[np.ndarray], np.ndarray], add: Callable[[int], None],
                quality: np.ndarray, alpha: float, budget: int, mean: bool = True) -> np.ndarray:
    """Lazy greedy on (1 - alpha) * gain [/ n when ``mean``] + alpha * quality: (budget,) int64 rows in order.

    initial_gains: (n,) gains on the empty set; gains(candidates) the exact current gains; add(row) commits a pick.
    Ties go to the lowest row (heap entries are (-score, row)).
    """
    n = len(quality)
    diversity_weight = (1.0 - alpha) / (n if mean else 1)

    def score(rows: np.ndarray, raw_gains: np.ndarray) -> np.ndarray:
        return diversity_weight * raw_gains + alpha * quality[rows]

    heap = list(zip((-score(np.arange(n), initial_gains)).tolist(), range(n)))
    heapq.heapify(heap)
    fresh_at = np.zeros(n, dtype=np.int64)  # entries pushed at step s are exact while the selection has s rows
    picked = np.empty(budget, dtype=np.int64)
    evaluations = 0
    for step in tqdm(range(budget), desc="qdit", unit="sample", disable=budget < 2_000):
        while fresh_at[heap[0][1]] != step:
            batch = [heapq.heappop(heap)[1] for _ in range(min(_EVAL_BATCH, len(heap)))]
            rows = np.asarray(batch, dtype=np.int64)
            exact = score(rows, gains(rows))
            evaluations += len(rows)
            fresh_at[rows] = step
            for value, row in zip((-exact).tolist(), batch):
                heapq.heappush(heap, (value, row))
        chosen = heapq.heappop(heap)[1]
        picked[step] = chosen
        add(chosen)
    logger.info("qdit: %d picks from %d samples with %d gain evaluations (plain greedy: %d)",
                budget, n, evaluations, budget * n)
    return picked


def qdit_plain_greedy(unit: np.ndarray, quality: np.ndarray, alpha: float, budget: int,
                      mean: bool = True) -> np.ndarray:
    """The reference: plain (non-lazy) greedy on the dense kernel, every gain recomputed at every step.

    Holds the (n, n) clamped similarity matrix, so for small pools only (tests, benchmark). Returns (budget,) rows.
    """
    n = len(unit)
    similarity = np.maximum(unit @ unit.T, 0.0)
    covered = np.zeros(n, dtype=np.float32)
    available = np.ones(n, dtype=bool)
    picked = np.empty(budget, dtype=np.int64)
    for step in range(budget):
        gains = np.maximum(similarity - covered[:, None], 0.0).sum(axis=0, dtype=np.float64)
        scores = np.where(available, (1.0 - alpha) / (n if mean else 1) * gains + alpha * quality, -np.inf)
        chosen = int(np.argmax(scores))
        picked[step] = chosen
        available[chosen] = False
        np.maximum(covered, similarity[:, chosen], out=covered)
    return picked


def resolve_qdit(pool: PoolView, budget: int, params: QditParams) -> QditParams:
    """kernel=auto -> knn above ``knn_above`` rows, else dense; recorded in the run's params."""
    if params.kernel != "auto":
        return params
    return dataclasses.replace(params, kernel="knn" if len(pool) > params.knn_above else "dense")


@register_selector("qdit", QditParams, needs=("embeddings", "score"), resolve=resolve_qdit)
def select_qdit(pool: PoolView, budget: int, seed: int, params: QditParams) -> np.ndarray:
    """QDIT: lazy greedy on (1 - alpha) * facility-location gain + alpha * quality (deterministic; seed unused)."""
    if not 0.0 <= params.alpha <= 1.0:
        raise ValueError(f"qdit: 'alpha' must be in [0, 1], got {params.alpha}")
    params = resolve_qdit(pool, budget, params)
    unit = unit_embeddings(pool)
    if params.kernel == "knn":
        if not 1 <= params.neighbors <= len(pool):
            raise ValueError(f"qdit: 'neighbors' must be in [1, {len(pool)}], got {params.neighbors}")
        coverage: DenseCoverage | KnnCoverage = KnnCoverage(unit, params.neighbors)
    else:
        coverage = TorchDenseCoverage(unit) if cuda_available() else DenseCoverage(unit)
    logger.info("qdit: kernel %s, alpha %.2f", params.kernel, params.alpha)
    return lazy_greedy(coverage.initial_gains(), coverage.gains, coverage.add, normalized_quality(pool.score),
                       params.alpha, budget, mean=params.diversity_scale == "mean")
