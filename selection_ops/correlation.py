"""How well a diversity metric tracks fine-tuned model performance (NovelSum Sec. 2.2-2.3, Eq. 5-6, Appx. A.5).

* ``aggregate_performance``: several benchmarks' scores per subset turned into one number per subset, the sum of
  their z-scores (Eq. 5: P = z_MT-bench + z_AlpacaEval).
* ``correlate``: Pearson, Spearman and their mean (Eq. 6) between one metric's values and the performance over the
  same subsets.
* ``correlation_table``: the same for every metric, subsets matched by key.
* ``constant_metrics``: the metrics a report leaves out because they take one value on every subset.

Degenerate inputs never raise: fewer than 3 usable subsets, or a constant metric or performance, give NaN
coefficients with ``reason`` saying why, so a report can show the row instead of failing the run.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata

logger = logging.getLogger(__name__)

MIN_POINTS = 3


@dataclass(frozen=True)
class Correlation:
    """Correlation of one metric with performance over ``n`` subsets; NaN coefficients come with a ``reason``."""

    metric: str
    n: int
    pearson: float
    spearman: float
    mean: float  # (pearson + spearman) / 2, NovelSum Eq. 6
    reason: str | None = None

    def as_dict(self) -> dict[str, float | int | str | None]:
        return {"metric": self.metric, "n": self.n, "pearson": self.pearson, "spearman": self.spearman,
                "mean": self.mean, "reason": self.reason}


def zscores(values: Sequence[float] | np.ndarray) -> np.ndarray:
    """(v - mean) / std with the population std (ddof = 0), NaNs ignored and kept: (n,) -> (n,) float64.

    A benchmark on which every subset scores the same carries no ranking information: its z-scores are 0.
    """
    array = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(array)
    out = np.full_like(array, np.nan)
    if not finite.any():
        return out
    std = array[finite].std()
    out[finite] = 0.0 if std == 0 else (array[finite] - array[finite].mean()) / std
    return out


def aggregate_performance(benchmarks: Mapping[str, Sequence[float]]) -> np.ndarray:
    """NovelSum Eq. 5: per subset, the sum over benchmarks of its z-score on that benchmark.

    benchmarks: name -> (n_subsets,) scores, all in the same subset order. A subset missing a score (NaN) gets NaN.
    Returns (n_subsets,) float64.
    """
    if not benchmarks:
        raise ValueError("aggregate_performance needs at least one benchmark")
    lengths = {name: len(scores) for name, scores in benchmarks.items()}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"benchmarks have different numbers of subsets: {lengths}")
    for name, scores in benchmarks.items():
        if np.nanstd(np.asarray(scores, dtype=np.float64)) == 0:
            logger.warning("benchmark %s scores every subset the same; it adds nothing to the aggregate", name)
    return np.sum([zscores(scores) for scores in benchmarks.values()], axis=0)


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    dx, dy = x - x.mean(), y - y.mean()
    return float(np.clip((dx @ dy) / math.sqrt((dx @ dx) * (dy @ dy)), -1.0, 1.0))


def correlate(values: Sequence[float] | np.ndarray, performance: Sequence[float] | np.ndarray,
              metric: str = "") -> Correlation:
    """Pearson (Eq. 17), Spearman (Pearson of average-tie ranks) and their mean (Eq. 6); pairs with a NaN dropped."""
    x = np.asarray(values, dtype=np.float64)
    y = np.asarray(performance, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"metric {metric!r}: values {x.shape} and performance {y.shape} must be equal-length 1-D")
    usable = np.isfinite(x) & np.isfinite(y)
    x, y = x[usable], y[usable]
    n = len(x)
    reason = None
    if n < MIN_POINTS:
        reason = f"needs at least {MIN_POINTS} subsets with both a metric value and a performance, got {n}"
    elif np.ptp(x) == 0:
        reason = "the metric has the same value on every subset"
    elif np.ptp(y) == 0:
        reason = "the performance is the same on every subset"
    if reason is not None:
        return Correlation(metric, n, math.nan, math.nan, math.nan, reason)
    pearson = _pearson(x, y)
    spearman = _pearson(rankdata(x), rankdata(y))
    return Correlation(metric, n, pearson, spearman, (pearson + spearman) / 2.0)


def constant_metrics(metric_values: Mapping[str, Sequence[float] | np.ndarray]) -> dict[str, str]:
    """The metrics a report leaves out, each with the reason: no finite value, or one value on every subset.

    metric_values: metric -> its values over the subsets (NaN = not measured there, ignored). A metric that cannot
    tell the subsets apart has no correlation to report (e.g. a cluster count at or above the subset size).
    """
    reasons = {}
    for name, values in metric_values.items():
        finite = np.asarray(values, dtype=np.float64)
        finite = finite[np.isfinite(finite)]
        if len(finite) == 0:
            reasons[name] = "no subset has a value"
        elif len(finite) > 1 and np.ptp(finite) == 0:
            reasons[name] = f"the same value ({finite[0]:.6g}) on all {len(finite)} subsets"
    return reasons


def correlation_table(metric_values: Mapping[str, Mapping[str, float]],
                      performance: Mapping[str, float]) -> dict[str, Correlation]:
    """Eq. 6 for every metric. metric_values: subset key -> {metric: value}; performance: subset key -> P.

    Subsets are matched by key; a subset without a performance, or without a given metric, is left out of that
    metric's correlation (``n`` says how many remained).
    """
    keys = [key for key in metric_values if key in performance]
    dropped = sorted(set(metric_values) - set(performance))
    if dropped:
        logger.info("correlation: %d subset(s) have no performance and are left out: %s", len(dropped), dropped[:5])
    names = sorted({name for values in metric_values.values() for name in values})
    perf = np.array([performance[key] for key in keys], dtype=np.float64)
    table = {}
    for name in names:
        column = np.array([metric_values[key].get(name, math.nan) for key in keys], dtype=np.float64)
        table[name] = correlate(column, perf, metric=name)
    return table
