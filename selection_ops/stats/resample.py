"""Bootstrap draws and what is read from the replicates.

A draw of ``n`` units with replacement is kept as a count matrix ``counts[b, u]`` = how often unit ``u`` is in
replicate ``b``: a replicate's mean of per-unit sums is then ``counts @ sums / counts @ sizes``, one matrix product
for every pair of runs at once (Efron & Tibshirani 1993, An Introduction to the Bootstrap, Ch. 6; resampling whole
clusters: Davison & Hinkley 1997, Bootstrap Methods and their Application, Sec. 3.8).

The p-value of a bootstrap test of "no difference" shifts the replicates to the null, as Hall & Wilson 1991 (Two
Guidelines for Bootstrap Hypothesis Testing) advise: p = (1 + #{b : |theta*_b - theta| >= |theta|}) / (B + 1).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

DEFAULT_RESAMPLES = 10_000
LEVEL = 0.95
CHUNK_ENTRIES = 4_000_000  # counts drawn at most this many at a time (32 MB of float64)


def draw_counts(units: int, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """``resamples`` draws of ``units`` units with replacement as counts: (resamples, units) float64, rows summing
    to ``units``. One index matrix (resamples, units) is drawn and counted row by row."""
    if units < 1 or resamples < 1:
        raise ValueError(f"a bootstrap needs at least one unit and one resample, got {units} and {resamples}")
    index = rng.integers(0, units, size=(resamples, units), dtype=np.int32).astype(np.intp)
    index += np.arange(resamples, dtype=np.intp)[:, None] * units
    return np.bincount(index.ravel(), minlength=resamples * units).reshape(resamples, units).astype(np.float64)


def count_chunks(units: int, resamples: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """``draw_counts(units, resamples, rng)`` in consecutive blocks of rows, so that a benchmark of 14,000
    questions (MMLU) never holds a (10,000 x 14,000) matrix at once; the same rows as one draw of each block."""
    rows = max(1, CHUNK_ENTRIES // max(units, 1))
    for start in range(0, resamples, rows):
        yield draw_counts(units, min(rows, resamples - start), rng)


def percentile_interval(replicates: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """The percentile interval of (resamples,) replicates (NaN replicates ignored; NaN when none is finite)."""
    finite = replicates[np.isfinite(replicates)]
    if finite.size == 0:
        return math.nan, math.nan
    tail = 100.0 * (1.0 - level) / 2.0
    low, high = np.percentile(finite, [tail, 100.0 - tail])
    return float(low), float(high)


def bootstrap_p_value(replicates: np.ndarray, estimate: float) -> float:
    """Two-sided p-value of "the true difference is 0": the share of replicates, shifted to the null, at least as
    far from 0 as ``estimate`` (Hall & Wilson 1991), counted as (1 + hits) / (1 + B); NaN without replicates."""
    finite = replicates[np.isfinite(replicates)]
    if finite.size == 0 or not math.isfinite(estimate):
        return math.nan
    hits = int(np.count_nonzero(np.abs(finite - estimate) >= abs(estimate)))
    return (1.0 + hits) / (1.0 + finite.size)


def bootstrap_se(replicates: np.ndarray) -> float:
    """sd(ddof=1) of the finite replicates; NaN with fewer than two."""
    finite = replicates[np.isfinite(replicates)]
    return float(finite.std(ddof=1)) if finite.size >= 2 else math.nan
