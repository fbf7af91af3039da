"""Power: the smallest difference a study can see, and what a study needs to see a given one.

At two-sided level alpha and power 1 - beta, a difference is detected when it exceeds the minimum detectable
effect MDE = (z_{1 - alpha/2} + z_{1 - beta}) x se(diff) (Miller 2024, Adding Error Bars to Evals, Sec. 5, power
analysis; Cohen 1988, Statistical Power Analysis for the Behavioral Sciences, Ch. 2). With 5 % and 80 %:
(1.960 + 0.842) x se = 2.80 se.

A paired difference has Var(diff) = sigma_q^2 / n + s2_seed_a / k_a + s2_seed_b / k_b (``moments``, ``seeds``),
sigma_q the per-question sd of the paired differences (with the clusters' design effect: ``sd_effective``). To see
a target difference T:

* questions needed (seeds as now): n = Z^2 sigma_q^2 / (T^2 - Z^2 seed_term), infinite when the seed term alone
  is already above (T / Z)^2 (more seeds first);
* seeds needed per run (questions as now, both runs with k seeds, their seed variances as observed; a run with
  one seed borrows the other's): k = Z^2 (s2_a + s2_b) / (T^2 - Z^2 sigma_q^2 / n), infinite when the question
  term alone is too large; NaN when no run has two seeds (the seed variance is unknown).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.stats import norm

from selection_ops.stats.moments import PairMoments, pair_moments
from selection_ops.stats.score_arrays import benchmark_arrays

ALPHA = 0.05
POWER = 0.80
POWER_COLUMNS = ("benchmark", "a", "b", "n", "clusters", "diff", "sd_paired", "sd_effective", "seeds_a", "seeds_b",
                 "seed_sd_a", "seed_sd_b", "se", "mde", "target_mde", "questions_needed", "seeds_needed")


def z_sum(alpha: float = ALPHA, power: float = POWER) -> float:
    """z_{1 - alpha/2} + z_{power}: 2.8016 at 5 % and 80 %."""
    if not (0 < alpha < 1 and 0 < power < 1):
        raise ValueError(f"alpha and power must lie in (0, 1), got {alpha} and {power}")
    return float(norm.ppf(1 - alpha / 2) + norm.ppf(power))


def mde(se: float, alpha: float = ALPHA, power: float = POWER) -> float:
    """The minimum detectable effect of a difference with standard error ``se`` (same units)."""
    return z_sum(alpha, power) * se


def questions_needed(target: float, sd_question: float, seed_term: float = 0.0, alpha: float = ALPHA,
                     power: float = POWER) -> float:
    """Questions for a paired difference ``target`` at the given power (rounded up); inf when the seed term alone
    is too large, NaN when ``sd_question`` is unknown."""
    if not (target > 0):
        raise ValueError(f"the target difference must be > 0, got {target}")
    if not math.isfinite(sd_question):
        return math.nan
    z = z_sum(alpha, power)
    room = target**2 - z**2 * seed_term
    if room <= 0:
        return math.inf
    return float(max(2, math.ceil(z**2 * sd_question**2 / room)))


def seeds_needed(target: float, var_question: float, seed_var_a: float, seed_var_b: float, alpha: float = ALPHA,
                 power: float = POWER) -> float:
    """Seeds per run for a difference ``target`` with the question term ``var_question`` as now (rounded up, at
    least 1); inf when the question term alone is too large; NaN when neither seed variance is known."""
    if not (target > 0):
        raise ValueError(f"the target difference must be > 0, got {target}")
    known = [v for v in (seed_var_a, seed_var_b) if math.isfinite(v)]
    if not known:
        return math.nan
    total = sum(known) if len(known) == 2 else 2 * known[0]
    z = z_sum(alpha, power)
    room = target**2 - z**2 * var_question
    if room <= 0:
        return math.inf
    return float(max(1, math.ceil(z**2 * total / room)))


def power_row(moments: PairMoments, target_mde: float | None = None, alpha: float = ALPHA,
              power: float = POWER) -> dict[str, object]:
    """One ``POWER_COLUMNS`` row from a pair's moments."""
    target = math.nan if target_mde is None else float(target_mde)
    return {
        "benchmark": moments.key, "a": moments.a, "b": moments.b, "n": moments.n, "clusters": moments.clusters,
        "diff": moments.diff, "sd_paired": moments.sd_paired, "sd_effective": moments.sd_effective,
        "seeds_a": moments.seeds_a, "seeds_b": moments.seeds_b, "seed_sd_a": moments.seed_sd_a,
        "seed_sd_b": moments.seed_sd_b, "se": moments.se, "mde": mde(moments.se, alpha, power),
        "target_mde": target,
        "questions_needed": (questions_needed(target, moments.sd_effective, moments.seed_term, alpha, power)
                             if target_mde is not None else math.nan),
        "seeds_needed": (seeds_needed(target, moments.var_question, moments.seed_var_a, moments.seed_var_b, alpha,
                                      power) if target_mde is not None else math.nan),
    }


def power_table(questions: pd.DataFrame, pairs: Sequence[tuple[str, str]], target_mde: float | None = None,
                benchmark: str | None = None, alpha: float = ALPHA, power: float = POWER,
                source: str = "questions") -> pd.DataFrame:
    """``POWER_COLUMNS`` for every pair on every benchmark of the per-question table (or only ``benchmark``).

    ValueError naming ``source`` for an unknown benchmark or a run the table does not have."""
    arrays = benchmark_arrays(questions, source)
    if benchmark is not None and benchmark not in arrays:
        raise ValueError(f"{source}: no benchmark {benchmark!r} (benchmarks: {list(arrays)})")
    runs = {run for scores in arrays.values() for run in scores.per_seed}
    unknown = sorted({run for pair in pairs for run in pair} - runs)
    if unknown:
        raise ValueError(f"{source}: no run(s) {unknown} (runs: {sorted(runs)})")
    rows = []
    for key, scores in arrays.items():
        if benchmark is not None and key != benchmark:
            continue
        for a, b in pairs:
            moments = pair_moments(scores, a, b)
            if moments is not None:
                rows.append(power_row(moments, target_mde, alpha, power))
    return pd.DataFrame(rows, columns=list(POWER_COLUMNS)).astype({"n": np.int64, "clusters": np.int64})
