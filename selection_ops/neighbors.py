"""k-nearest-neighbour search and NovelSum's local density factor, on FAISS.

Every selector and metric that needs neighbours (NovelSum's density, NovelSelect, QDIT's sparse kernel, KNN distance)
goes through ``knn_search`` so there is one place that picks the index, the device and the batching.

* ``knn_search`` returns squared L2 distances (FAISS ``IndexFlatL2`` convention) and row indices into ``reference``.
  For unit-norm rows, squared L2 = 2 * (1 - cos), so the same call ranks by cosine similarity.
* The exact flat index is the default. ``index="ivf"`` (inverted lists, approximate) is for pools where an exact
  search over every (query, reference) pair is too slow; ``"auto"`` takes IVF from ``IVF_AUTO_MIN_ROWS`` rows on.
* FAISS's GPU index is used when the installed FAISS build has GPU support and a GPU is visible (faiss-gpu);
  otherwise the CPU index (faiss-cpu), which uses all OpenMP threads.
"""

from __future__ import annotations

import logging
import math
from typing import Literal

import faiss
import numpy as np
from tqdm.auto import tqdm

logger = logging.getLogger(__name__)

IndexKind = Literal["flat", "ivf", "auto"]

IVF_AUTO_MIN_ROWS = 200_000  # "auto" switches from the exact flat index to IVF at this reference size
_QUERY_BATCH = 16_384  # queries per FAISS call: bounds the (batch, k) result buffers and drives the progress bar
_PROGRESS_MIN_QUERIES = 4 * _QUERY_BATCH

_gpu_resources = None


def faiss_gpu_available() -> bool:
    """True when this FAISS build has GPU support and sees at least one GPU."""
    return hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0


def _to_device(index: faiss.Index) -> faiss.Index:
    """The index moved to GPU 0 when faiss-gpu and a GPU are present; unchanged otherwise."""
    global _gpu_resources
    if not faiss_gpu_available():
        return index
    if _gpu_resources is None:
        _gpu_resources = faiss.StandardGpuResources()
    return faiss.index_cpu_to_gpu(_gpu_resources, 0, index)


def _as_float32(matrix: np.ndarray, name: str) -> np.ndarray:
    matrix = np.ascontiguousarray(matrix, dtype=np.float32)
    if matrix.ndim != 2:
        raise ValueError(f"{name} must be 2-D (rows, dim), got shape {matrix.shape}")
    if not np.isfinite(matrix).all():
        bad = int(np.flatnonzero(~np.isfinite(matrix).all(axis=1))[0])
        raise ValueError(f"{name} row {bad} contains NaN or infinite values")
    return matrix


def default_nlist(n_reference: int) -> int:
    """IVF list count: about sqrt(n), and at least 39 training points per list (FAISS's own floor)."""
    return int(max(1, min(math.isqrt(max(n_reference, 1)), n_reference // 39)))


def build_index(reference: np.ndarray, *, index: IndexKind = "flat", nlist: int | None = None,
                nprobe: int | None = None) -> faiss.Index:
    """A FAISS L2 index holding ``reference`` (n, d) float32; flat (exact) or IVF (approximate)."""
    reference = _as_float32(reference, "reference")
    n, dim = reference.shape
    kind = ("ivf" if n >= IVF_AUTO_MIN_ROWS else "flat") if index == "auto" else index
    if kind == "flat":
        built = faiss.IndexFlatL2(dim)
    elif kind == "ivf":
        lists = nlist if nlist is not None else default_nlist(n)
        if not 1 <= lists <= n:
            raise ValueError(f"nlist must be in [1, {n}] for {n} reference rows, got {lists}")
        quantizer = faiss.IndexFlatL2(dim)
        built = faiss.IndexIVFFlat(quantizer, dim, lists, faiss.METRIC_L2)
        built.train(reference)  # FAISS k-means with its fixed default seed: same lists for the same data
        built.nprobe = nprobe if nprobe is not None else min(lists, max(8, lists // 16))
        logger.info("IVF index: %d rows, %d lists, nprobe %d", n, lists, built.nprobe)
    else:
        raise ValueError(f"index must be 'flat', 'ivf' or 'auto', got {index!r}")
    built.add(reference)
    return _to_device(built)


def _search(built: faiss.Index, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Batched ``built.search``: (m, k) float32 squared distances, (m, k) int64 indices (-1 where none found)."""
    m = len(queries)
    distances = np.empty((m, k), dtype=np.float32)
    indices = np.empty((m, k), dtype=np.int64)
    starts = range(0, m, _QUERY_BATCH)
    for start in tqdm(starts, desc="knn search", unit="batch", disable=m < _PROGRESS_MIN_QUERIES):
        stop = min(start + _QUERY_BATCH, m)
        distances[start:stop], indices[start:stop] = built.search(queries[start:stop], k)
    return distances, indices


def knn_search(queries: np.ndarray, reference: np.ndarray, k: int, *, exclude_self: bool = False,
               index: IndexKind = "flat", nlist: int | None = None,
               nprobe: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest rows of ``reference`` for each row of ``queries`` by (squared) L2 distance.

    queries:   (m, d) float array.
    reference: (n, d) float array.
    exclude_self: ``queries`` are the reference rows themselves (m == n, query i is reference row i); row i's own
               index is removed from its neighbours (duplicates of row i at other indices still count).
    index:     "flat" exact (default), "ivf" approximate inverted lists (``nlist`` lists, ``nprobe`` probed),
               "auto" = IVF from ``IVF_AUTO_MIN_ROWS`` reference rows on.

    Returns ``(distances, indices)``: (m, k) float32 squared L2 distances ascending, (m, k) int64 reference rows.
    IVF rows whose probed lists held fewer than ``k`` candidates are redone exactly, so no -1 ever comes back.
    """
    queries = _as_float32(queries, "queries")
    reference = _as_float32(reference, "reference")
    if queries.shape[1] != reference.shape[1]:
        raise ValueError(f"queries have dim {queries.shape[1]}, reference has dim {reference.shape[1]}")
    if exclude_self and queries.shape != reference.shape:
        raise ValueError("exclude_self=True needs queries to be the reference rows themselves "
                         f"(same shape); got {queries.shape} and {reference.shape}")
    n_candidates = len(reference) - (1 if exclude_self else 0)
    if not 1 <= k <= n_candidates:
        raise ValueError(f"k must be in [1, {n_candidates}] for {len(reference)} reference rows"
                         f"{' excluding self' if exclude_self else ''}, got {k}")
    k_search = k + 1 if exclude_self else k
    built = build_index(reference, index=index, nlist=nlist, nprobe=nprobe)
    distances, indices = _search(built, queries, k_search)
    incomplete = np.flatnonzero((indices < 0).any(axis=1))
    if len(incomplete):  # only IVF can come back short; redo those rows exactly
        logger.info("IVF returned fewer than %d neighbours for %d queries; searching those exactly",
                    k_search, len(incomplete))
        distances[incomplete], indices[incomplete] = _search(build_index(reference, index="flat"),
                                                             queries[incomplete], k_search)
    if not exclude_self:
        return distances, indices
    # Drop each row's own index; where it is not among the k+1 found (ties with duplicates), drop the farthest.
    is_self = indices == np.arange(len(queries))[:, None]
    is_self[~is_self.any(axis=1), -1] = True
    keep = ~is_self
    return distances[keep].reshape(len(queries), k), indices[keep].reshape(len(queries), k)


def unique_rows(matrix: np.ndarray) -> np.ndarray:
    """The distinct rows of ``matrix`` (n, d) -> (u, d), in first-occurrence order (byte-wise equality)."""
    matrix = np.ascontiguousarray(matrix)
    row_bytes = matrix.view(np.dtype((np.void, matrix.dtype.itemsize * matrix.shape[1]))).ravel()
    _, first = np.unique(row_bytes, return_index=True)
    return matrix[np.sort(first)]


class NeighborCountError(ValueError):
    """K outside [1, distinct reference rows - 1] for the density; a selector or metric re-raises it through
    ``check_neighbor_count`` naming its own parameter."""

    def __init__(self, k: int, distinct: int) -> None:
        self.k = k
        self.distinct = distinct
        super().__init__(f"density needs k in [1, {distinct - 1}] ({distinct} distinct reference rows), got {k}")


def check_neighbor_count(k: int, rows: int, *, distinct: int | None = None, owner: str, cli: str,
                         python: str) -> None:
    """A ValueError naming the parameter to change when the density cannot take ``k`` neighbours from a reference
    of ``rows`` rows (``distinct`` of them distinct, when known): K must be in [1, distinct - 1], since the search
    drops each row's nearest neighbour (itself). ``cli`` / ``python``: how the parameter is set, e.g.
    ``"--param neighbors"`` and ``"NovelSelectParams(neighbors=K)"``."""
    usable = rows if distinct is None else distinct
    if 1 <= k <= usable - 1:
        return
    counted = f"{rows} samples" + (f", {distinct} distinct embeddings" if distinct is not None and distinct < rows
                                   else "")
    names = f"set with {cli}=K, or {python} in Python"
    if usable < 2:
        raise ValueError(f"{owner}: the density needs at least 2 distinct embeddings (K >= 1 neighbour besides the "
                         f"sample itself); the pool has {counted}")
    if k < 1:
        raise ValueError(f"{owner}: the density's neighbour count K ({names}) must be at least 1, got {k}")
    raise ValueError(f"{owner}: the density's neighbour count K = {k} ({names}) must be at most {usable - 1} for a "
                     f"pool of {counted} (K + 1 nearest rows are searched, the first being the sample itself); "
                     f"lower it, e.g. {cli}={usable - 1}")


def knn_density(embeddings: np.ndarray, reference: np.ndarray | None = None, k: int = 10, beta: float = 0.5, *,
                regularization: float = 1e-9, index: IndexKind = "flat") -> np.ndarray:
    """NovelSum's density factor sigma(x)^beta per row (NovelSum Eq. 9; official ``utils.FaissIndex.local_density``).

    sigma(x)^beta = (mean_{j=1..K} ||x - N_j(x)||^2 + regularization)^(-beta), with N_j(x) the j-th nearest row of
    the reference set X^all by squared L2 distance (FAISS IndexFlatL2, as the official code uses).

    embeddings: (m, d) rows to score; in NovelSum/NovelSelect these are rows of the reference pool.
    reference:  (n, d) the reference set X^all; None means ``embeddings`` itself.

    Semantics of the official code, kept here:
    * the reference set is deduplicated first (``np.unique`` over rows), so a sample repeated in the pool (or a
      Duplicate-selector subset) does not find its own copies at distance 0;
    * the search asks for K + 1 neighbours and drops the first one: the point itself, since every query is a row of
      the reference. A query that is *not* in the reference also loses its nearest neighbour (official behaviour).
    * distances are taken on the vectors as given: the official code, and by default our callers (NovelSum metric,
      NovelSelect), pass the raw embeddings; on unit-norm rows squared L2 = 2 (1 - cos).

    Returns (m,) float64.
    """
    embeddings = _as_float32(embeddings, "embeddings")
    reference_rows = unique_rows(_as_float32(embeddings if reference is None else reference, "reference"))
    if not 1 <= k <= len(reference_rows) - 1:
        raise NeighborCountError(k, len(reference_rows))
    distances, _ = knn_search(embeddings, reference_rows, k + 1, index=index)
    mean_sq = distances[:, 1:].astype(np.float64).mean(axis=1)
    return np.power(np.maximum(mean_sq, 0.0) + regularization, -beta)
