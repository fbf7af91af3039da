"""Do two studies order the same runs the same way? (A small proxy study against the full one, two base models,
two judges.)

Over the n runs both tables share (matched by ``run``; runs without a value in either are left out):

* decision accuracy: the share of the n (n - 1) / 2 run pairs that both studies order the same way (the
  pairwise-decision agreement of Magnusson et al. 2025, DataDecide). Ties: a pair tied in both studies
  agrees (1); a pair tied in one study only counts 1/2 (one study cannot tell the two apart, the other can: a coin
  flip would agree half the time); opposite orders count 0. The counts of each kind are reported.
* Kendall's tau-b (Kendall 1945, The treatment of ties in ranking problems; equal to ``scipy.stats.kendalltau``):
  sum_{i<j} sign(a_i - a_j) sign(b_i - b_j) / sqrt(untied pairs in a x untied pairs in b).
* Spearman's rho: Pearson's r of the average-tie ranks (``scipy.stats.spearmanr``).

Each carries a percentile interval from resampling the runs with replacement (seeded). In a replicate a run drawn
twice forms no pair with itself: for decision accuracy such pairs are left out; tau-b and rho see them as a pair
tied in both studies, as scipy would on the resampled values.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy.stats import kendalltau, spearmanr

from selection_ops.stats.correlation_ci import CORRELATION_RESAMPLES, rowwise_spearman
from selection_ops.stats.resample import LEVEL, percentile_interval

STATISTICS = ("decision_accuracy", "kendall_tau", "spearman_rho")


@dataclass(frozen=True)
class Agreement:
    """Two studies' agreement on ``column`` over ``runs`` (see the module doc); intervals at ``level``."""

    column: str
    runs: tuple[str, ...]
    pairs: int
    agree: int  # ordered the same way, neither tied
    disagree: int  # opposite orders
    tied_one: int  # tied in exactly one study (counts 1/2)
    tied_both: int  # tied in both (counts 1)
    decision_accuracy: float
    decision_accuracy_low: float
    decision_accuracy_high: float
    kendall_tau: float
    kendall_tau_low: float
    kendall_tau_high: float
    spearman_rho: float
    spearman_rho_low: float
    spearman_rho_high: float
    resamples: int
    seed: int
    level: float

    @property
    def n(self) -> int:
        return len(self.runs)

    def as_dict(self) -> dict[str, object]:
        out = asdict(self)
        out["runs"] = list(self.runs)
        out["n"] = self.n
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in out.items()}


def pair_signs(values: np.ndarray) -> np.ndarray:
    """sign(v_i - v_j) for every i, j: (..., n) -> (..., n, n)."""
    return np.sign(values[..., :, None] - values[..., None, :])


def decision_accuracy(a: np.ndarray, b: np.ndarray) -> float:
    """Decision accuracy of two score vectors (n,) over the same runs (ties as in the module doc); NaN for n < 2."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    upper = np.triu(np.ones((a.size, a.size), dtype=bool), k=1)
    if not upper.any():
        return math.nan
    return float(_pair_credit(pair_signs(a), pair_signs(b))[upper].mean())


def _pair_credit(sa: np.ndarray, sb: np.ndarray) -> np.ndarray:
    """1 same order or tied in both, 1/2 tied in one, 0 opposite."""
    return np.where(sa == sb, 1.0, np.where((sa == 0) | (sb == 0), 0.5, 0.0))


def agreement(a: np.ndarray, b: np.ndarray, runs: tuple[str, ...] | None = None, column: str = "", *,
              resamples: int = CORRELATION_RESAMPLES, seed: int = 0, level: float = LEVEL) -> Agreement:
    """The agreement of two studies' values a, b (n,) of the same runs (in the same order)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"agreement needs two equal-length 1-D score vectors, got {a.shape} and {b.shape}")
    n = a.size
    runs = tuple(runs) if runs is not None else tuple(str(i) for i in range(n))
    sa, sb = pair_signs(a), pair_signs(b)
    upper = np.triu(np.ones((n, n), dtype=bool), k=1)
    sa_u, sb_u = sa[upper], sb[upper]
    ties_a, ties_b = sa_u == 0, sb_u == 0
    counts = {"agree": int(np.sum((sa_u == sb_u) & ~ties_a)), "disagree": int(np.sum((sa_u == -sb_u) & ~ties_a)),
              "tied_one": int(np.sum(ties_a ^ ties_b)), "tied_both": int(np.sum(ties_a & ties_b))}
    tau = float(kendalltau(a, b).statistic) if n >= 2 else math.nan
    rho = float(spearmanr(a, b).statistic) if n >= 2 else math.nan
    accuracy = decision_accuracy(a, b)
    intervals = _bootstrap(a, b, resamples, seed, level) if n >= 3 else {s: (math.nan, math.nan) for s in STATISTICS}
    return Agreement(column, runs, int(upper.sum()), **counts, decision_accuracy=accuracy,
                     decision_accuracy_low=intervals["decision_accuracy"][0],
                     decision_accuracy_high=intervals["decision_accuracy"][1], kendall_tau=tau,
                     kendall_tau_low=intervals["kendall_tau"][0], kendall_tau_high=intervals["kendall_tau"][1],
                     spearman_rho=rho, spearman_rho_low=intervals["spearman_rho"][0],
                     spearman_rho_high=intervals["spearman_rho"][1], resamples=resamples, seed=seed, level=level)


def rowwise_kendall_tau_b(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Kendall's tau-b of each row pair: x, y (B, n) -> (B,) (the module doc's formula; NaN when a row is
    constant)."""
    sx, sy = pair_signs(x), pair_signs(y)
    upper = np.triu(np.ones(sx.shape[-2:], dtype=bool), k=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return ((sx * sy) * upper).sum(axis=(1, 2)) / np.sqrt(
            (np.abs(sx) * upper).sum(axis=(1, 2)) * (np.abs(sy) * upper).sum(axis=(1, 2)))


def _bootstrap(a: np.ndarray, b: np.ndarray, resamples: int, seed: int,
               level: float) -> dict[str, tuple[float, float]]:
    """Percentile intervals of the three statistics over ``resamples`` draws of the runs: (B, n) index matrix,
    (B, n, n) sign matrices."""
    n = a.size
    index = np.random.default_rng(seed).integers(0, n, size=(resamples, n))
    sa, sb = pair_signs(a[index]), pair_signs(b[index])
    distinct = (index[:, :, None] != index[:, None, :]) & np.triu(np.ones((n, n), dtype=bool), k=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        accuracy = (_pair_credit(sa, sb) * distinct).sum(axis=(1, 2)) / distinct.sum(axis=(1, 2))
    tau = rowwise_kendall_tau_b(a[index], b[index])
    rho = rowwise_spearman(a[index], b[index])
    return {"decision_accuracy": percentile_interval(accuracy, level), "kendall_tau": percentile_interval(tau, level),
            "spearman_rho": percentile_interval(rho, level)}


def agreement_of_tables(table_a: pd.DataFrame, table_b: pd.DataFrame, column: str, *, source_a: str = "a",
                        source_b: str = "b", resamples: int = CORRELATION_RESAMPLES, seed: int = 0,
                        level: float = LEVEL) -> Agreement:
    """``agreement`` of ``column`` over the runs both tables share (``run`` column), in table a's order.

    ValueError naming the table for a missing ``run`` / ``column``, a repeated run, a non-numeric value, or fewer
    than two shared runs with a value in both."""
    for table, source in ((table_a, source_a), (table_b, source_b)):
        for needed in ("run", column):
            if needed not in table:
                raise ValueError(f"{source}: no column {needed!r} (columns: {list(table.columns)})")
        repeated = table["run"][table["run"].duplicated()].tolist()
        if repeated:
            raise ValueError(f"{source}: column 'run' repeats {repeated[:5]}")
        numeric = pd.to_numeric(table[column], errors="coerce")
        bad = numeric.isna() & table[column].notna()
        if bad.any():
            raise ValueError(f"{source}: run {table.loc[bad, 'run'].iloc[0]!r}, field {column!r} is not a number")
    values_a = pd.to_numeric(table_a[column], errors="coerce").set_axis(table_a["run"].astype(str))
    values_b = pd.to_numeric(table_b[column], errors="coerce").set_axis(table_b["run"].astype(str))
    shared = [run for run in values_a.index if run in values_b.index
              and math.isfinite(values_a[run]) and math.isfinite(values_b[run])]
    if len(shared) < 2:
        raise ValueError(f"{source_a} and {source_b} share {len(shared)} run(s) with a value of {column!r}; "
                         "agreement needs at least two")
    return agreement(values_a[shared].to_numpy(), values_b[shared].to_numpy(), tuple(shared), column,
                     resamples=resamples, seed=seed, level=level)
