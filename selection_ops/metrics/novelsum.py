"""NovelSum (Yang et al. 2025, Sec. 3, Eq. 7-9, Appx. B.1): proximity-weighted, density-aware diversity.

The computation is the official ``novelsum.py`` (UmeanNever/NovelSum) with the paper's main setting K = 10,
beta = 0.5, alpha = p = 1 (Sec. 5.2, Appx. B.1; one cell of the official script's parameter grid). The official
code differs from the paper's text in two places; both are kept, since the published numbers come from it:

* the density factor multiplies each *row*: a_ij = sigma(x_i)^beta * D_ij with D = 1 - cos over the subset,
  diagonal included (Eq. 9 writes sigma(x_j)); since sigma_i is constant along row i it scales v_i and does not
  change the ranks;
* the metric is the *mean* of the row novelties (Eq. 7 writes a sum), and each row's proximity-weighted sum is
  normalised by the weights: v_i = sum_r r^(-p) a_i(r) / sum_r r^(-p), a_i(1) <= a_i(2) <= ... sorted ascending,
  r = 1..n. The diagonal zero takes rank 1 (and repeated rows of a Duplicate selection take the next ranks).

Density, as the official ``utils.FaissIndex.local_density`` (``selection_ops.neighbors.knn_density``): squared L2
distance on the *raw* embeddings (FAISS IndexFlatL2) to the K nearest rows of the deduplicated reference pool, the
first hit (the point itself) dropped; sigma^beta = (mean + 1e-9)^(-beta). Only the cosine distances use unit-norm
rows. ``normalized_density=True`` searches unit-norm rows instead (not the official metric; a named option).

Deviations from the official code: none with the defaults; ``normalized_density`` and an approximate density search
(``index="ivf"`` or ``"auto"``) are opt-in.

Cost: the (n, n) distance matrix is never held; rows are done in blocks (product, sort, one dot with the weights),
on the GPU with torch when one is present. Densities are remembered per pool row within a process
(``memoised_density``), so measuring many subsets of one pool searches each row's neighbours once.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from tqdm.auto import tqdm

from selection_ops.data_model import PoolView
from selection_ops.metrics._inputs import embeddings_of, require_rows, torch_cuda_device
from selection_ops.neighbors import IndexKind, NeighborCountError, check_neighbor_count, knn_density
from selection_ops.registry import register_metric

logger = logging.getLogger(__name__)

_ROW_BLOCK = 1024  # rows of the (n, n) distance matrix per block on CPU (fewer when n is large)


@dataclass(frozen=True)
class NovelSumParams:
    k: int = field(default=10, metadata={"help": "K nearest neighbours in the reference pool for the density (Eq. 9)"})
    beta: float = field(default=0.5, metadata={"help": "exponent of the density factor (Eq. 9)"})
    p: float = field(default=1.0, metadata={"help": "proximity weight r^(-p) (alpha in Eq. 8; 'distance power')"})
    normalized_density: bool = field(default=False, metadata={
        "help": "search the density on L2-normalised rows (official: raw embeddings, squared L2)"})
    index: Literal["flat", "ivf", "auto"] = field(default="flat", metadata={
        "help": "density search: flat = exact (as the official code), ivf = approximate, auto = ivf from 200K rows"})


def rank_weights(n: int, power: float) -> np.ndarray:
    """w_r = r^(-power) / sum_s s^(-power), r = 1..n: (n,) float64, summing to 1."""
    weights = np.power(np.arange(1, n + 1, dtype=np.float64), -power)
    return weights / weights.sum()


def proximity_weighted_means(unit: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Per row i, sum_r weights_r * D_i(r) with D = 1 - unit @ unit.T sorted ascending: (n, d), (n,) -> (n,) float64.

    CPU: row blocks of the distance matrix (block x n float32, about 128 MiB at most) are formed, sorted in place and
    reduced by threads (numpy releases the GIL in matmul and sort), one block per thread at a time.
    """
    n = len(unit)
    device = torch_cuda_device()
    if device is not None:
        return _proximity_weighted_means_torch(unit, weights, device)
    out = np.empty(n, dtype=np.float64)
    weights32 = weights.astype(np.float32)
    block_rows = max(1, min(_ROW_BLOCK, (1 << 25) // max(n, 1)))
    starts = range(0, n, block_rows)

    def one_block(start: int) -> None:
        block = unit[start:start + block_rows] @ unit.T  # (b, n) cosine similarities
        np.subtract(1.0, block, out=block)
        block.sort(axis=1)
        out[start:start + len(block)] = block @ weights32

    workers = max(1, min(os.cpu_count() or 1, len(starts)))
    with ThreadPoolExecutor(max_workers=workers) as executor:
        for _ in tqdm(executor.map(one_block, starts), total=len(starts), desc="novelsum rows", unit="block",
                      disable=n < 20_000):
            pass
    return out


def _proximity_weighted_means_torch(unit: np.ndarray, weights: np.ndarray, device) -> np.ndarray:
    import torch

    n = len(unit)
    matrix = torch.from_numpy(unit).to(device)
    w = torch.from_numpy(weights.astype(np.float32)).to(device)
    row_block = max(1, min(n, (1 << 28) // max(n, 1)))  # about 1 GiB of float32 per block
    out = torch.empty(n, dtype=torch.float64, device=device)
    for start in range(0, n, row_block):
        block = 1.0 - matrix[start:start + row_block] @ matrix.T
        out[start:start + len(block)] = (torch.sort(block, dim=1).values @ w).double()
    return out.cpu().numpy()


_DENSITY_MEMO_POOLS = 2
_density_memo: OrderedDict[tuple, dict[bytes, float]] = OrderedDict()


def _row_digests(rows: np.ndarray) -> list[bytes]:
    return [hashlib.blake2b(row.tobytes(), digest_size=16).digest() for row in rows]


def memoised_density(rows: np.ndarray, reference: np.ndarray, *, k: int, beta: float,
                     index: IndexKind = "flat") -> np.ndarray:
    """``knn_density(rows, reference, ...)``, remembering each row's value per (reference, k, beta, index).

    The loop measures many subsets of one pool in a process; their rows overlap, and on CPU the density search
    dominates NovelSum's cost, so each distinct row is searched once per pool. rows (m, d) -> (m,) float64.
    """
    key = (hashlib.blake2b(reference.tobytes(), digest_size=16).hexdigest(), reference.shape, k, beta, index)
    memo = _density_memo.setdefault(key, {})
    _density_memo.move_to_end(key)
    while len(_density_memo) > _DENSITY_MEMO_POOLS:
        _density_memo.popitem(last=False)
    digests = _row_digests(rows)
    missing = list({digest: row for row, digest in enumerate(digests) if digest not in memo}.items())
    if missing:
        values = knn_density(rows[[row for _, row in missing]], reference, k=k, beta=beta, index=index)
        memo.update(zip((digest for digest, _ in missing), values.tolist()))
    return np.array([memo[digest] for digest in digests], dtype=np.float64)


def novelsum_value(unit_subset: np.ndarray, density_subset: np.ndarray, density_reference: np.ndarray, *,
                   k: int = 10, beta: float = 0.5, p: float = 1.0, index: IndexKind = "flat") -> float:
    """NovelSum of a subset against its reference pool.

    unit_subset:       (m, d) unit-norm subset rows, for D = 1 - cos.
    density_subset:    (m, d) the same rows as the density search sees them (raw by default, as the official code).
    density_reference: (N, d) the reference pool rows, in the same form.
    """
    density = memoised_density(density_subset, density_reference, k=k, beta=beta, index=index)
    novelty = density * proximity_weighted_means(unit_subset, rank_weights(len(unit_subset), p))
    return float(novelty.mean())


@register_metric("novelsum", NovelSumParams, needs=("embeddings",), needs_reference_pool=True)
def novelsum(subset: PoolView, pool: PoolView, params: NovelSumParams) -> float:
    """NovelSum: mean proximity-weighted, density-scaled cosine distance (Eq. 7-9; official novelsum.py)."""
    require_rows(subset, "novelsum", 1)
    unit_subset = embeddings_of(subset, "novelsum", normalize=True)
    density_subset = unit_subset if params.normalized_density else embeddings_of(subset, "novelsum", normalize=False)
    reference = embeddings_of(pool, "novelsum", normalize=params.normalized_density, role="reference pool")
    names = {"owner": "novelsum", "cli": "--param novelsum.k", "python": "NovelSumParams(k=K)"}
    check_neighbor_count(params.k, len(reference), **names)  # before any work
    try:
        return novelsum_value(unit_subset, density_subset, reference, k=params.k, beta=params.beta, p=params.p,
                              index=params.index)
    except NeighborCountError as error:  # repeated embeddings leave fewer distinct rows than samples
        check_neighbor_count(params.k, len(reference), distinct=error.distinct, **names)
        raise
