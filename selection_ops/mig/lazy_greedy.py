"""Greedy maximisation of E(D) by lazy evaluation of stale gains, and the full rescan it equals.

Two drivers of the same algorithm: ``lazy_greedy_numba`` (a compiled binary heap, one re-evaluation at a time;
the CPU default) and ``lazy_greedy`` (vectorised: rows grouped in buckets of their stale bound, re-evaluated in
batches by a numpy or torch ``GainEvaluator``; the GPU path and the no-compiler fallback).

Why lazy is exact here: x_i P >= 0 and phi' is decreasing, so as x_sel grows every candidate's gain (linear or
exact) can only fall. A gain computed earlier is an upper bound of the current one; a candidate whose stale bound
is below the best fresh gain cannot win and need not be re-evaluated.

Pick rule (shared with the full rescan and the dense reference): let G = the largest gain among the remaining
candidates; every candidate with gain >= G * (1 - TIE_RTOL) ties, and the smallest pool index among them wins.
The relative tolerance makes picks independent of floating-point summation order (a dense matrix product and a
sparse row sum round differently); real gain differences are many orders of magnitude larger.
Candidates with gain 0 (no label, score 0) are picked only when every remaining gain is 0, in pool order.
"""

from __future__ import annotations

import heapq
import logging
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from tqdm.auto import tqdm

logger = logging.getLogger(__name__)

TIE_RTOL = 1e-10  # gains this close (relative) to the best are ties, broken by the smallest pool index
BOUND_SLACK = 1e-9  # stale bounds are inflated by this (relative) so rounding can never hide a candidate
_BUCKET_WIDTH = 0.02  # relative width of a bound bucket
_PROBE = 8  # rows of largest stale bound re-evaluated first in each step, to learn a good lower bound of the best


class GainEvaluator(Protocol):
    """What the greedy needs from a backend (``selection_ops.mig.gains``)."""

    @property
    def n(self) -> int: ...

    def empty_rows(self) -> np.ndarray: ...

    def gains(self, rows: np.ndarray) -> np.ndarray: ...

    def all_gains(self) -> np.ndarray: ...

    def add(self, row: int) -> None: ...


@dataclass(frozen=True)
class GreedyRun:
    """indices: (budget,) int64 pool rows in pick order; gains: (budget,) float64 the gain of each pick when picked."""

    indices: np.ndarray
    gains: np.ndarray


def _progress(budget: int, desc: str) -> tqdm:
    return tqdm(total=budget, desc=desc, unit="pick", mininterval=2.0, disable=budget < 20_000 or None)


def _zero_gain_tail(remaining: np.ndarray, count: int) -> np.ndarray:
    """When every remaining gain is 0, the rest of the picks are the remaining rows in pool order."""
    return np.sort(remaining)[:count]


class _BucketQueue:
    """Candidate rows grouped by the logarithm of their stale bound: bucket b holds bounds in
    [w^b, w^(b+1)), w = 1 + _BUCKET_WIDTH. A step visits buckets from the top down and stops at the first bucket
    whose upper edge is below the tie floor, so rows far below the best are never touched. Rows with bound 0 can
    never gain again and are set aside in ``zero_rows``.
    """

    def __init__(self, rows: np.ndarray, bounds: np.ndarray) -> None:
        self.log_width = float(np.log1p(_BUCKET_WIDTH))
        self.buckets: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # id -> (rows, stale bounds)
        self.ids: list[int] = []  # max-heap (negated) of bucket ids; ids of emptied buckets are skipped lazily
        self.zero_rows: list[np.ndarray] = []
        self.add(rows, bounds)

    def add(self, rows: np.ndarray, bounds: np.ndarray) -> None:
        positive = bounds > 0
        if not positive.all():
            self.zero_rows.append(rows[~positive])
            rows, bounds = rows[positive], bounds[positive]
        if not len(rows):
            return
        ids = np.floor(np.log(bounds) / self.log_width).astype(np.int64)
        order = np.argsort(ids, kind="stable")
        ids, rows, bounds = ids[order], rows[order], bounds[order]
        cuts = (np.flatnonzero(np.diff(ids)) + 1).tolist()
        for start, end in zip([0] + cuts, cuts + [len(ids)]):
            self.put(int(ids[start]), rows[start:end], bounds[start:end])

    def put(self, bucket: int, rows: np.ndarray, bounds: np.ndarray) -> None:
        if not len(rows):
            return
        if bucket in self.buckets:
            old_rows, old_bounds = self.buckets[bucket]
            rows, bounds = np.concatenate([old_rows, rows]), np.concatenate([old_bounds, bounds])
        else:
            heapq.heappush(self.ids, -bucket)
        self.buckets[bucket] = (rows, bounds)

    def top(self) -> int | None:
        """The highest non-empty bucket id, or None."""
        while self.ids and -self.ids[0] not in self.buckets:
            heapq.heappop(self.ids)
        return -self.ids[0] if self.ids else None

    def upper_edge(self, bucket: int) -> float:
        """An upper bound of every bound in ``bucket`` (its edge w^(b+1), padded against rounding in the log)."""
        return float(np.exp((bucket + 1) * self.log_width)) * (1.0 + 1e-12)

    def pop(self, bucket: int) -> tuple[np.ndarray, np.ndarray]:
        heapq.heappop(self.ids)
        return self.buckets.pop(bucket)


def lazy_greedy(evaluator: GainEvaluator, budget: int, first_chunk: int = _PROBE) -> GreedyRun:
    """Lazy greedy over all rows of the evaluator; identical picks to ``full_rescan_greedy``.

    first_chunk: contenders of a bucket are re-evaluated in chunks of first_chunk, 2 first_chunk, ... (fewer
    evaluations on the CPU); a large value evaluates them in one call (fewer device round trips on a GPU).

    Each step re-evaluates the ``_PROBE`` rows of largest stale bound in the top bucket, giving ``best`` (<= the
    true maximum G), then every row whose inflated bound reaches best * (1 - TIE_RTOL) - every row that might tie
    with or beat G - bucket by bucket from the top. Re-evaluated rows move to the bucket of their fresh gain.
    """
    empty = evaluator.empty_rows()
    candidates = np.flatnonzero(~empty)
    queue = _BucketQueue(candidates, evaluator.all_gains()[candidates])
    picks: list[int] = []
    pick_gains: list[float] = []
    evaluations = 0
    with _progress(budget, "MIG lazy greedy") as bar:
        while len(picks) < budget:
            bucket = queue.top()
            if bucket is None:
                break  # every remaining gain is 0: the rest follow in pool order
            rows, bounds = queue.pop(bucket)
            probe = np.argpartition(-bounds, _PROBE - 1)[:_PROBE] if len(rows) > _PROBE else np.arange(len(rows))
            fresh_rows, fresh = [rows[probe]], [evaluator.gains(rows[probe])]
            best = float(fresh[0].max())
            rest = np.ones(len(rows), dtype=bool)
            rest[probe] = False
            rows, bounds = rows[rest], bounds[rest]
            held = []  # rows of visited buckets that were not re-evaluated: back to their buckets after the step
            while True:
                # contenders in bound order, in growing chunks, so that best rises before the weaker ones are tried
                contender = np.flatnonzero(bounds * (1.0 + BOUND_SLACK) >= best * (1.0 - TIE_RTOL))
                contender = contender[np.argsort(-bounds[contender], kind="stable")]
                start, size = 0, first_chunk
                while start < len(contender) and bounds[contender[start]] * (1.0 + BOUND_SLACK) >= best * (
                        1.0 - TIE_RTOL):
                    chunk = rows[contender[start:start + size]]
                    fresh_rows.append(chunk)
                    fresh.append(evaluator.gains(chunk))
                    best = max(best, float(fresh[-1].max()))
                    start, size = start + size, 2 * size
                contender = contender[:start]
                done = np.zeros(len(rows), dtype=bool)
                done[contender] = True
                held.append((bucket, rows[~done], bounds[~done]))
                lower = queue.top()
                if lower is None or queue.upper_edge(lower) * (1.0 + BOUND_SLACK) < best * (1.0 - TIE_RTOL):
                    break
                bucket = lower
                rows, bounds = queue.pop(bucket)
            for bucket, rows, bounds in held:
                queue.put(bucket, rows, bounds)
            rows, gains = np.concatenate(fresh_rows), np.concatenate(fresh)
            evaluations += len(rows)
            best = float(gains.max())
            if best <= 0:  # every remaining row was evaluated at 0 (phi' underflowed)
                queue.add(rows, gains)
                continue
            tied = gains >= best * (1.0 - TIE_RTOL)
            winner = int(np.argmin(np.where(tied, rows, np.iinfo(np.int64).max)))
            pick = int(rows[winner])
            keep = np.arange(len(rows)) != winner
            queue.add(rows[keep], gains[keep])
            evaluator.add(pick)
            picks.append(pick)
            pick_gains.append(float(gains[winner]))
            bar.update(1)
        if len(picks) < budget:  # all remaining gains are 0
            remaining = np.concatenate(queue.zero_rows + [np.flatnonzero(empty)])
            tail = _zero_gain_tail(remaining, budget - len(picks))
            picks.extend(tail.tolist())
            pick_gains.extend([0.0] * len(tail))
            bar.update(len(tail))
    logger.info("lazy greedy: %d picks, %d gain evaluations (%.1f per pick)", budget, evaluations,
                evaluations / max(budget, 1))
    return GreedyRun(np.asarray(picks, dtype=np.int64), np.asarray(pick_gains, dtype=np.float64))


def full_rescan_greedy(evaluator: GainEvaluator, budget: int) -> GreedyRun:
    """Re-evaluate every remaining candidate at every step (the pick rule applied literally); for tests."""
    taken = np.zeros(evaluator.n, dtype=bool)
    everything = np.arange(evaluator.n)
    picks, pick_gains = [], []
    for _ in range(budget):
        remaining = everything[~taken]
        gains = evaluator.gains(remaining)
        best = gains.max()
        pick = int(remaining[np.flatnonzero(gains >= best * (1.0 - TIE_RTOL))[0]])
        taken[pick] = True
        evaluator.add(pick)
        picks.append(pick)
        pick_gains.append(float(gains[remaining == pick][0]))
    return GreedyRun(np.asarray(picks, dtype=np.int64), np.asarray(pick_gains, dtype=np.float64))


def lazy_greedy_numba(information, phi, rule: str, budget: int) -> GreedyRun:
    """The compiled lazy greedy (``selection_ops.mig.numba_kernel``) on V (n, L) CSR; same picks as ``lazy_greedy``."""
    from selection_ops.mig.numba_kernel import PHI_EXP, PHI_POW, lazy_greedy_kernel

    picks, gains, evaluations = lazy_greedy_kernel(
        information.indptr.astype(np.int64), information.indices.astype(np.int64),
        np.asarray(information.data, dtype=np.float64), information.shape[1], budget, rule == "exact",
        PHI_POW if phi.name == "pow" else PHI_EXP, float(phi.a), float(phi.b), float(phi.alpha), TIE_RTOL,
        BOUND_SLACK)
    logger.info("lazy greedy (numba): %d picks, %d gain evaluations (%.1f per pick)", len(picks), evaluations,
                evaluations / max(len(picks), 1))
    if len(picks) < budget:  # every remaining gain is 0: the rest follow in pool order
        taken = np.zeros(information.shape[0], dtype=bool)
        taken[picks] = True
        tail = _zero_gain_tail(np.flatnonzero(~taken), budget - len(picks))
        picks, gains = np.concatenate([picks, tail]), np.concatenate([gains, np.zeros(len(tail))])
    return GreedyRun(picks.astype(np.int64), gains.astype(np.float64))
