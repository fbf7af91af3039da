"""Training seeds: the second source of noise in a verdict.

A run trained with k seeds is one cell; its per-question score is the mean over seeds (``score_arrays``). The seed
variance s2_seed is the variance (ddof=1) across seeds of the run's benchmark mean over the compared questions. A
paired difference then has

    Var(diff) = Var_q(mean d) + s2_seed_a / k_a + s2_seed_b / k_b

with Var_q the (clustered) variance over questions of the seed-averaged differences d_i. Seeds and questions are
crossed random effects; adding the two components is the usual two-way random-effects approximation, slightly
conservative because the per-question seed noise enters both terms (by at most its variance / (n k)). The
bootstrap follows the same decomposition (a two-stage bootstrap, Davison & Hinkley 1997, Sec. 3.8): questions (or
clusters) are resampled for the seed-averaged differences, and each run's seeds are resampled on their own, the
deviation of the resampled seed mean inflated by sqrt(k / (k - 1)) so that its variance is s2_seed / k exactly
(resampling k values with replacement gives (k - 1) / k of it). A run with one seed has no seed variance to
estimate: its term is left out (NaN in the table), and the report says how many seeds each run had.
"""

from __future__ import annotations

import math

import numpy as np


def seed_means(per_seed: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """per_seed (n, k) scores with NaN, mask (n,) bool -> (k,) each seed's mean over the masked questions it
    answered (NaN for a seed that answered none of them)."""
    rows = per_seed[mask]
    answered = np.isfinite(rows)
    count = answered.sum(axis=0)
    total = np.where(answered, rows, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def seed_variance(means: np.ndarray) -> float:
    """Variance (ddof=1) across seeds of a run's benchmark mean; NaN with fewer than two seeds."""
    finite = means[np.isfinite(means)]
    return float(finite.var(ddof=1)) if finite.size >= 2 else math.nan


def seed_deviations(means: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The seed stage of the bootstrap: means (k,) per seed, counts (B, k) how often each seed is drawn ->
    (B,) sqrt(k / (k - 1)) x (resampled seed mean - seed mean). Zeros with fewer than two seeds."""
    finite = np.isfinite(means)
    k = int(finite.sum())
    if k < 2:
        return np.zeros(counts.shape[0])
    values = means[finite]
    weights = counts[:, finite]
    drawn = weights.sum(axis=1)
    centre = float(values.mean())
    with np.errstate(invalid="ignore", divide="ignore"):
        resampled = np.where(drawn > 0, weights @ values / np.maximum(drawn, 1.0), centre)
    return math.sqrt(k / (k - 1)) * (resampled - centre)
