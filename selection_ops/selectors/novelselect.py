"""NovelSelect (NovelSum paper, Sec. 6; official UmeanNever/NovelSum ``novelselect.py``).

With NovelSum's density factor sigma(x) = (mean squared L2 distance to the K nearest pool rows + 1e-9)^(-beta)
(Eq. 9; ``selection_ops.neighbors.knn_density``) computed, as the official code does, on the *raw* embeddings (the
deduplicated pool as reference, the point itself dropped), cosine distances on the L2-normalised embeddings u, and
the official first point (``numpy.random.seed(seed); numpy.random.randint(0, n)``), each step adds the unselected x
maximising

    score(x) = (1/|S|) sum_j M_xj * rank_x(j)^(-p),    M_xj = (1 - <u_x, u_sj>) * (sigma(x) + sigma(s_j)),

where rank_x(j) is the 1-based ascending rank of M_xj within row x (the nearest selected point weighs most).

Speed: the official code recomputes the (n, |S|) matrix and sorts every row at every step, O(n |S| (d + log |S|))
per step. Here each row keeps its M values sorted and a running weighted sum; adding a selected point inserts one
value per row: a binary search for its rank, then the values above it move up one rank, which changes the sum by
sum_{r >= pos} a_r (w_{r+1} - w_r) + v w_pos. A step costs one (n, d) x (d,) product plus a merge of one value into
each sorted row, O(n (d + |S|)) (numba on CPU; vectorised torch on GPU). The merge is memory-bound (about half of
each row moves per insertion), so its advantage grows with d and log |S|; see benchmarks/RESULTS_selectors.md.
``novelselect_recompute`` is the full per-step recompute (the official algorithm in fp32), kept as the reference
and as the fallback when the (n, budget) sorted state would not fit in ``max_state_gb``.

Deliberate deviations from the official script (NovelSum/NovelSelect, Yang et al. 2025, Appx. B.2;
``normalized_density=True`` and ``exclude_selected=True`` are further, opt-in ones):
* everything is fp32 (the official loop runs in fp16 autocast, whose rounding can reorder near-ties).
As the official script (our default), the argmax runs over every row, picked ones included: with raw-vector
densities it can pick a dense row again (measured on synthetic 1,000 x 32 rows: 40 of 100 picks repeated with norms
spread 20x, none on unit rows); the repeats are counted in a warning. ``exclude_selected=True`` removes picked rows
from the argmax as the paper's Alg. 1 (line 6) does, and gives distinct picks.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from tqdm.auto import tqdm

from selection_ops.data_model import PoolView
from selection_ops.foundation.devices import cuda_available, resolve_device
from selection_ops.neighbors import NeighborCountError, check_neighbor_count, knn_density
from selection_ops.registry import register_selector
from selection_ops.similarity import unit_embeddings

logger = logging.getLogger(__name__)

Backend = Literal["auto", "numba", "torch", "recompute"]
_RECOMPUTE_BLOCK = 4096  # rows per block in the full recompute: bounds the (block, |S|) buffer
_TORCH_BLOCK = 16_384  # rows per block in the torch merge: bounds its (block, |S|) temporaries
_PARALLEL_MIN_ROWS = 50_000  # the numba merge runs its rows on all cores from this pool size on


@dataclass(frozen=True)
class NovelSelectParams:
    neighbors: int = field(default=10, metadata={"help": "K: nearest neighbours in the density factor (NovelSum: 10)"})
    density_power: float = field(default=0.5, metadata={"help": "beta: exponent of the density factor (0.5)"})
    distance_power: float = field(default=1.0, metadata={"help": "p: rank weight exponent, weight = rank^-p (1)"})
    normalized_density: bool = field(default=False, metadata={
        "help": "search the density on L2-normalised rows (official: raw embeddings, squared L2)"})
    exclude_selected: bool = field(default=False, metadata={
        "help": "false (official script): the argmax runs over every row and can pick a row again (the selection "
                "then holds repeats, counted in a warning); true: a picked row is never picked again (paper Alg. 1)"})
    backend: Backend = field(default="auto", metadata={
        "help": "auto (torch on a CUDA GPU, else numba), numba (CPU merge), torch (merge on torch, GPU or CPU), "
                "recompute (official-style full recompute per step; slow, the reference)"})
    max_state_gb: float | None = field(default=None, metadata={
        "help": "largest (n, budget) float32 sorted state the merge may hold, beyond it the recompute is used; "
                "None: half the GPU's memory (torch on CUDA) or half the machine's RAM (numba)"})


def rank_weights(count: int, power: float) -> np.ndarray:
    """w_r = r^(-p) for ranks r = 1..count: (count,) float64."""
    return np.arange(1, count + 1, dtype=np.float64) ** -power


def novelselect_recompute(unit: np.ndarray, density: np.ndarray, budget: int, first: int,
                          power: float = 1.0, exclude_selected: bool = True) -> np.ndarray:
    """The reference: at every step rebuild M for all rows against all selected points, sort, weight, argmax.

    unit: (n, d) unit float32 rows; density: (n,) float32 sigma. Returns (budget,) int64 rows in selection order.
    """
    weights = rank_weights(budget, power).astype(np.float32)
    picked = np.empty(budget, dtype=np.int64)
    picked[0] = first
    scores = np.empty(len(unit), dtype=np.float32)
    for step in tqdm(range(1, budget), desc="novelselect (recompute)", unit="sample", disable=budget < 500):
        selected = picked[:step]
        selected_unit, selected_density = unit[selected], density[selected]
        for start in range(0, len(unit), _RECOMPUTE_BLOCK):
            stop = min(start + _RECOMPUTE_BLOCK, len(unit))
            weighted = (1.0 - unit[start:stop] @ selected_unit.T) * (density[start:stop, None] + selected_density)
            weighted.sort(axis=1)
            scores[start:stop] = weighted @ weights[:step] / np.float32(step)
        if exclude_selected:
            scores[selected] = -np.inf
        picked[step] = int(np.argmax(scores))
    return picked


def _numba_kernel(parallel: bool):
    """The per-row sorted insertion, compiled on first use (numba is imported only for this backend)."""
    import numba

    @numba.njit(parallel=parallel, cache=True)
    def insert_column(sorted_rows, count, column, weights, weight_steps, score_sums, active):
        # sorted_rows (n, budget) float32, first ``count`` columns valid and ascending per row;
        # weights[r] = (r + 1)^-p, weight_steps[r] = weights[r + 1] - weights[r]; score_sums (n,) float64.
        for i in numba.prange(sorted_rows.shape[0]):
            if not active[i]:
                continue
            value = column[i]
            row = sorted_rows[i]
            low, high = 0, count
            while low < high:  # first position holding a value > value
                middle = (low + high) // 2
                if row[middle] <= value:
                    low = middle + 1
                else:
                    high = middle
            delta = 0.0
            carry = value  # walk forward, each value moving up one place (measured ~13% faster than backward)
            for r in range(low, count):
                shifted = row[r]
                row[r] = carry
                carry = shifted
                delta += shifted * weight_steps[r]
            row[count] = carry
            score_sums[i] += delta + value * weights[low]

    return insert_column


_compiled_kernels: dict[bool, object] = {}


def _novelselect_numba(unit: np.ndarray, density: np.ndarray, budget: int, first: int, power: float,
                       exclude_selected: bool = True, parallel: bool = False) -> np.ndarray:
    if parallel not in _compiled_kernels:
        _compiled_kernels[parallel] = _numba_kernel(parallel)
    insert_column = _compiled_kernels[parallel]
    n = len(unit)
    weights = rank_weights(budget + 1, power)
    weight_steps = np.diff(weights)
    sorted_rows = np.empty((n, budget), dtype=np.float32)
    score_sums = np.zeros(n, dtype=np.float64)
    active = np.ones(n, dtype=np.bool_)
    picked = np.empty(budget, dtype=np.int64)
    picked[0] = first
    active[first] = not exclude_selected
    for step in tqdm(range(1, budget), desc="novelselect", unit="sample", disable=budget < 2_000):
        newest = picked[step - 1]
        column = (1.0 - unit @ unit[newest]) * (density + density[newest])  # (n,) float32
        insert_column(sorted_rows, step - 1, column, weights, weight_steps, score_sums, active)
        chosen = int(np.argmax(np.where(active, score_sums, -np.inf)))
        picked[step] = chosen
        active[chosen] = not exclude_selected
    return picked


def _novelselect_torch(unit: np.ndarray, density: np.ndarray, budget: int, first: int, power: float,
                       exclude_selected: bool = True) -> np.ndarray:
    """The same merge, vectorised over rows with torch (CUDA when present): each step rebuilds the sorted rows
    with one value inserted (a gather-free select) and takes the weighted sum as one matrix-vector product."""
    import torch

    device = torch.device(resolve_device("auto"))
    unit_t = torch.from_numpy(unit).to(device)
    density_t = torch.from_numpy(density).to(device)
    weights = torch.from_numpy(rank_weights(budget, power).astype(np.float32)).to(device)
    n = len(unit)
    sorted_rows = torch.empty((n, budget), dtype=torch.float32, device=device)
    scores = torch.zeros(n, dtype=torch.float32, device=device)
    active = torch.ones(n, dtype=torch.bool, device=device)
    picked = np.empty(budget, dtype=np.int64)
    picked[0] = first
    active[first] = not exclude_selected
    for step in tqdm(range(1, budget), desc="novelselect (torch)", unit="sample", disable=budget < 2_000):
        count = step - 1
        newest = int(picked[step - 1])
        column = (1.0 - unit_t @ unit_t[newest]) * (density_t + density_t[newest])
        positions = torch.arange(count + 1, device=device)
        for start in range(0, n, _TORCH_BLOCK):
            stop = min(start + _TORCH_BLOCK, n)
            current, value = sorted_rows[start:stop, :count], column[start:stop, None]
            insert_at = (current <= value).sum(dim=1, keepdim=True)  # first position holding a larger value
            pad = value.expand(-1, 1)
            below = torch.cat([current, pad], dim=1)  # position j < insert_at keeps current[j]
            above = torch.cat([pad, current], dim=1)  # position j > insert_at takes current[j - 1]
            merged = torch.where(positions < insert_at, below, torch.where(positions == insert_at, value, above))
            sorted_rows[start:stop, :count + 1] = merged
            scores[start:stop] = merged @ weights[:count + 1]
        chosen = int(torch.argmax(torch.where(active, scores, torch.tensor(-torch.inf, device=device))))
        picked[step] = chosen
        active[chosen] = not exclude_selected
    return picked


def _default_state_limit_gb(backend: str) -> float:
    """Half of the memory the merge state would live in: the CUDA device's for torch there, else the machine's RAM."""
    if backend == "torch" and cuda_available():
        import torch

        return torch.cuda.get_device_properties(0).total_memory / 2**31
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**31


def novelselect_order(unit: np.ndarray, density: np.ndarray, budget: int, first: int, power: float = 1.0,
                      backend: Backend = "auto", max_state_gb: float | None = None,
                      exclude_selected: bool = True) -> np.ndarray:
    """NovelSelect on unit rows (n, d) float32 with density (n,): (budget,) int64 rows in selection order
    (distinct unless ``exclude_selected`` is False, the official script's argmax over every row)."""
    unit = np.ascontiguousarray(unit, dtype=np.float32)
    density = np.ascontiguousarray(density, dtype=np.float32)
    if backend == "auto":
        backend = "torch" if cuda_available() else "numba"
    state_gb = len(unit) * budget * 4 / 2**30
    if max_state_gb is None:
        max_state_gb = _default_state_limit_gb(backend)
    if backend in ("numba", "torch") and state_gb > max_state_gb:
        logger.warning("novelselect: the sorted state needs %.1f GB > max_state_gb %.1f; using the full recompute",
                       state_gb, max_state_gb)
        backend = "recompute"
    logger.info("novelselect: %d of %d samples, backend %s", budget, len(unit), backend)
    if backend == "numba":
        # threads pay off only when each step has enough rows; on a busy 2-core machine they cost more than they save
        return _novelselect_numba(unit, density, budget, first, power, exclude_selected,
                                  parallel=len(unit) >= _PARALLEL_MIN_ROWS)
    if backend == "torch":
        return _novelselect_torch(unit, density, budget, first, power, exclude_selected)
    if backend == "recompute":
        return novelselect_recompute(unit, density, budget, first, power, exclude_selected)
    raise ValueError(f"novelselect: unknown backend {backend!r}")


def official_first_point(seed: int, n: int) -> int:
    """The official script's first point: ``np.random.seed(seed); np.random.randint(0, n)``, drawn from a private
    legacy ``RandomState`` so numpy's global state is left alone (same stream, same draw)."""
    if not 0 <= seed < 2**32:
        raise ValueError(f"novelselect: seed must be in [0, 2**32) (numpy.random.seed), got {seed}")
    return int(np.random.RandomState(seed).randint(0, n))


@register_selector("novelselect", NovelSelectParams, needs=("embeddings",), allows_repeats=True)
def select_novelselect(pool: PoolView, budget: int, seed: int, params: NovelSelectParams) -> np.ndarray:
    """NovelSelect: greedy on density- and proximity-weighted novelty (NovelSum Sec. 6), official first point."""
    if budget > len(pool):  # the registry does not check it: repeats are allowed (exclude_selected=False)
        raise ValueError(f"novelselect: budget {budget} is larger than the pool ({len(pool)} samples)")
    # Before any work: K must leave a neighbour besides the sample itself (the official code has no check; FAISS
    # would pad the missing neighbours with huge distances, so no clamping here either).
    names = {"owner": "novelselect", "cli": "--param neighbors", "python": "NovelSelectParams(neighbors=K)"}
    check_neighbor_count(params.neighbors, len(pool), **names)
    unit = unit_embeddings(pool)
    density_rows = unit if params.normalized_density else np.asarray(pool.embeddings, dtype=np.float32)
    try:
        density = knn_density(density_rows, k=params.neighbors, beta=params.density_power).astype(np.float32)
    except NeighborCountError as error:  # repeated embeddings leave fewer distinct rows than samples
        check_neighbor_count(params.neighbors, len(pool), distinct=error.distinct, **names)
        raise
    first = official_first_point(seed, len(pool))
    order = novelselect_order(unit, density, budget, first, params.distance_power, params.backend,
                              params.max_state_gb, params.exclude_selected)
    repeats = len(order) - len(np.unique(order))
    if params.exclude_selected and repeats:  # the registry's check, skipped for repeats
        raise AssertionError("novelselect returned repeated samples with exclude_selected=True")
    if repeats:
        logger.warning("novelselect: the official argmax picked %d of %d rows again (the selection holds repeats); "
                       "exclude_selected=true gives distinct picks (paper Alg. 1)", repeats, len(order))
    return order
