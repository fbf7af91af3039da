"""MIG Appx. A.4's averages compared per pair of runs, with the paired bootstrap behind them.

Each A.4 benchmark's native score is normalised with ``a4.normalise`` (an affine map: AlpacaEval as is, MT-Bench
x 10, WildBench (x + 100) / 2), so a normalised difference is the native difference times the map's slope.
Avg_obj is the mean over the knowledge benchmarks the pair was compared on, Avg_sub over the preference ones (the
registry's halves: ``benchmarks.half_keys``), Avg the mean of the two halves (only when both exist).

In every bootstrap replicate each benchmark's questions were resampled on their own, the same draws for both runs
(``paired``), and each run's seeds once for all benchmarks; the replicate's aggregate difference is the same
average of the benchmarks' replicate differences. The interval is the percentile interval, the p-value the
bootstrap test of ``resample``, the MDE (z_{0.975} + z_{0.80}) x the replicates' sd. Other benchmark keys (the
likelihood channel: ``ref_bpb_*``, ``arc_c_prob``, ...) never enter an aggregate.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from selection_ops.evaluation.a4 import normalise
from selection_ops.evaluation.benchmarks import a4_keys, half_keys
from selection_ops.stats.paired import PairedComparison
from selection_ops.stats.power import ALPHA, POWER, mde
from selection_ops.stats.resample import LEVEL, bootstrap_p_value, bootstrap_se, percentile_interval

AGGREGATES = ("avg", "avg_obj", "avg_sub")


@dataclass(frozen=True)
class AggregateComparison:
    """One pair's difference of one A.4 average (percentage scale); ``benchmarks`` those averaged."""

    key: str
    a: str
    b: str
    n: int  # questions over the averaged benchmarks
    benchmarks: tuple[str, ...]
    diff: float
    ci_low: float
    ci_high: float
    p_value: float
    se: float
    mde: float


def normalised_slope(key: str) -> float:
    """How much A.4's normalised score moves per native point (1, 10 or 0.5)."""
    return normalise(key, 1.0) - normalise(key, 0.0)


def aggregate_comparisons(by_benchmark: Mapping[str, Sequence[PairedComparison]],
                          pairs: Sequence[tuple[str, str]], alpha: float = ALPHA, power: float = POWER,
                          level: float = LEVEL) -> list[AggregateComparison]:
    """Avg, Avg_obj and Avg_sub differences for each pair with at least one A.4 benchmark, in pair order."""
    found: dict[tuple[str, str], dict[str, PairedComparison]] = {}
    for key, comparisons in by_benchmark.items():
        if key not in a4_keys():
            continue
        for comparison in comparisons:
            found.setdefault((comparison.moments.a, comparison.moments.b), {})[key] = comparison
    results = []
    for pair in pairs:
        compared = found.get(tuple(pair))
        if not compared:
            continue
        halves = {name: _half(compared, keys) for name, keys in (("avg_obj", half_keys("knowledge")),
                                                                 ("avg_sub", half_keys("preference")))}
        if halves["avg_obj"] and halves["avg_sub"]:
            (obj, obj_rep, obj_keys), (sub, sub_rep, sub_keys) = halves["avg_obj"], halves["avg_sub"]
            halves["avg"] = ((obj + sub) / 2.0, (obj_rep + sub_rep) / 2.0, obj_keys + sub_keys)
        for name in AGGREGATES:
            if not halves.get(name):
                continue
            diff, replicates, keys = halves[name]
            n = sum(compared[k].moments.n for k in keys)
            if any(_units(compared[k]) < 2 for k in keys):
                # a benchmark resampled from one question (or cluster) has no variance to resample: its bootstrap
                # replicates are all equal and would make any difference look certain. No test, no MDE.
                results.append(AggregateComparison(name, pair[0], pair[1], n, keys, diff, math.nan, math.nan,
                                                   math.nan, math.nan, math.nan))
                continue
            low, high = percentile_interval(replicates, level)
            se = bootstrap_se(replicates)
            results.append(AggregateComparison(
                name, pair[0], pair[1], n, keys, diff, low, high,
                bootstrap_p_value(replicates, diff), se, mde(se, alpha, power)))
    return results


def _units(comparison: PairedComparison) -> int:
    """What the bootstrap resamples for this benchmark: clusters when clustered, else questions."""
    moments = comparison.moments
    return moments.clusters if moments.clustered else moments.n


def _half(compared: Mapping[str, PairedComparison], keys: Sequence[str]
          ) -> tuple[float, np.ndarray, tuple[str, ...]] | None:
    """(difference, replicates, keys) of the mean normalised score over ``keys`` the pair has; None if none."""
    present = tuple(k for k in keys if k in compared)
    if not present:
        return None
    diff = float(np.mean([normalised_slope(k) * compared[k].moments.diff for k in present]))
    replicates = np.mean([normalised_slope(k) * compared[k].replicates for k in present], axis=0)
    return diff, replicates, present
