"""Bootstrap intervals for the report's correlations, and which runs are controls.

A correlation over a handful of runs is itself noisy. Each metric-vs-performance correlation (Pearson, Spearman
and their mean, NovelSum Eq. 6, computed by ``selection_ops.correlation.correlate``) carries its n and a percentile
interval from resampling the points (runs) with replacement (Efron & Tibshirani 1993, Ch. 6 and 13, the
correlation coefficient), every replicate's three coefficients from the same draw. A replicate in which either
variable is constant has no coefficient and is left out of the interval.

Controls: degenerate selectors a study runs on purpose (NovelSum Appx. A.3's ``duplicate``: one sample repeated)
anchor a correlation by themselves; the report states every correlation with and without them. A run is a control
when its ``selector`` column, or the variant prefix of its name ``<variant>__b<budget>__<model>``, is one of the
controls.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from selection_ops.correlation import correlate
from selection_ops.stats.resample import LEVEL, percentile_interval
from selection_ops.study.cells import variant_of

CORRELATION_RESAMPLES = 2_000
DEFAULT_CONTROLS = ("duplicate",)


def rowwise_pearson(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson's r of each row pair: x, y (B, n) -> (B,); NaN for a row where either is constant."""
    dx = x - x.mean(axis=1, keepdims=True)
    dy = y - y.mean(axis=1, keepdims=True)
    denominator = np.sqrt((dx * dx).sum(axis=1) * (dy * dy).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (dx * dy).sum(axis=1) / denominator
    # a constant row has a numerically tiny, not exactly zero, spread after centring: treat it as constant
    constant = (np.ptp(x, axis=1) == 0) | (np.ptp(y, axis=1) == 0)
    return np.where(constant, np.nan, np.clip(r, -1.0, 1.0))


def rowwise_spearman(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Spearman's rho of each row pair (Pearson of average-tie ranks): (B, n) -> (B,)."""
    return rowwise_pearson(rankdata(x, axis=1), rankdata(y, axis=1))


def correlation_interval(values: Sequence[float] | np.ndarray, performance: Sequence[float] | np.ndarray, *,
                         resamples: int = CORRELATION_RESAMPLES, seed: int = 0, level: float = LEVEL,
                         metric: str = "") -> dict[str, float | int | str | None]:
    """n, Pearson, Spearman and their mean with ``<kind>_low`` / ``<kind>_high`` percentile intervals over
    ``resamples`` draws of the points (pairs with a NaN dropped first); ``reason`` when undefined (then NaN)."""
    x = np.asarray(values, dtype=np.float64)
    y = np.asarray(performance, dtype=np.float64)
    point = correlate(x, y, metric=metric)
    usable = np.isfinite(x) & np.isfinite(y)
    x, y = x[usable], y[usable]
    out: dict[str, float | int | str | None] = {"n": point.n, "pearson": point.pearson, "spearman": point.spearman,
                                                "mean": point.mean}
    if point.reason is not None:
        out.update({f"{kind}_{end}": math.nan for kind in ("pearson", "spearman", "mean") for end in ("low", "high")})
        out["reason"] = point.reason
        return out
    index = np.random.default_rng(seed).integers(0, len(x), size=(resamples, len(x)))
    pearson = rowwise_pearson(x[index], y[index])
    spearman = rowwise_spearman(x[index], y[index])
    for kind, replicates in (("pearson", pearson), ("spearman", spearman), ("mean", (pearson + spearman) / 2)):
        out[f"{kind}_low"], out[f"{kind}_high"] = percentile_interval(replicates, level)
    return out


def control_runs(table: pd.DataFrame, controls: Sequence[str] = DEFAULT_CONTROLS) -> np.ndarray:
    """(rows,) bool: the runs of ``table`` that are controls (module doc); case-insensitive."""
    wanted = {c.lower() for c in controls}
    names = table["run"].astype(str).str.lower().map(variant_of)
    control = names.isin(wanted).to_numpy()
    if "selector" in table:
        control |= table["selector"].map(lambda s: isinstance(s, str) and s.lower() in wanted).to_numpy(dtype=bool)
    return control
