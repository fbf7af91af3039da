"""Paired comparisons of runs on one benchmark: difference, 95 % interval, p-value, minimum detectable effect.

Each pair is compared on the questions both runs answered (Miller 2024, Adding Error Bars to Evals, Sec. 4:
paired differences remove the questions' shared difficulty from the noise). Per pair (``moments`` has the
formulas): diff = question_scale(key) x mean(a_i - b_i) on the native scale, se from the paired differences
(cluster-robust when the table has clusters, plus each run's seed variance over its seeds), MDE =
(z_{0.975} + z_{0.80}) se (``power``).

Interval: the paired bootstrap percentile interval. One count matrix of clusters (questions without clusters)
is drawn per benchmark and shared by every pair, so each replicate resamples the same questions for both runs;
a replicate's difference is (counts @ cluster sums of d) / (counts @ cluster sizes). With seeds, each run's seed
stage is added (``seeds``).

p-value (``test``):
* ``mcnemar-exact``: every compared score of both runs is 0/1, one seed each, no clusters (``mcnemar``);
* ``paired-t``: otherwise t = diff / se against Student's t with n - 1 degrees of freedom; ``-clustered``: se is
  cluster-robust and df = clusters - 1; ``+seeds``: se has seed terms and df is Welch-Satterthwaite's
  (Satterthwaite 1946, An Approximate Distribution of Estimates of Variance Components): df = V^2 / sum(v_j^2 /
  df_j) over the components v_j (questions: clusters - 1, each run's seeds: k - 1).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import t as student_t

from selection_ops.stats.mcnemar import mcnemar_exact_counts
from selection_ops.stats.moments import PairMoments, pair_moments
from selection_ops.stats.power import ALPHA, POWER, mde
from selection_ops.stats.resample import DEFAULT_RESAMPLES, LEVEL, count_chunks, draw_counts, percentile_interval
from selection_ops.stats.score_arrays import BenchmarkScores
from selection_ops.stats.seeds import seed_deviations


@dataclass(frozen=True)
class SeedDraws:
    """One run's seed stage, shared by every benchmark (a seed is one trained model): ``counts`` (B, K) how often
    each of its ``seeds`` is drawn per replicate."""

    seeds: tuple[str, ...]
    counts: np.ndarray


@dataclass(frozen=True)
class PairedComparison:
    """One pair on one benchmark: ``moments`` plus the bootstrap interval, p-value and MDE (native scale);
    ``replicates`` (B,) the bootstrap differences, kept for the A.4 aggregates."""

    moments: PairMoments
    ci_low: float
    ci_high: float
    p_value: float
    test: str
    mde: float
    replicates: np.ndarray


def draw_seeds(seeds_of_run: Mapping[str, Sequence[str]], resamples: int,
               rng: np.random.Generator) -> dict[str, SeedDraws]:
    """Seed draws for every run with at least two seeds, runs in the given order."""
    return {run: SeedDraws(tuple(seeds), draw_counts(len(seeds), resamples, rng))
            for run, seeds in seeds_of_run.items() if len(seeds) >= 2}


def compare_benchmark(scores: BenchmarkScores, pairs: Sequence[tuple[str, str]], *,
                      rng: np.random.Generator, resamples: int = DEFAULT_RESAMPLES,
                      seed_draws: Mapping[str, SeedDraws] | None = None, alpha: float = ALPHA,
                      power: float = POWER, level: float = LEVEL) -> list[PairedComparison]:
    """Every pair (a, b) of ``pairs`` that shares a question on this benchmark, in order (pairs sharing none are
    left out). One cluster count matrix (resamples, clusters) is drawn from ``rng`` and reused for all pairs."""
    moments = [m for m in (pair_moments(scores, a, b) for a, b in pairs) if m is not None]
    if not moments:
        return []
    replicates = _question_replicates(scores, moments, resamples, rng)
    results = []
    for column, pair in enumerate(moments):
        draws = replicates[:, column]
        for run, means, sign in ((pair.a, pair.seed_means_a, 1.0), (pair.b, pair.seed_means_b, -1.0)):
            if seed_draws and run in seed_draws:
                draws = draws + sign * scores.scale * seed_deviations(
                    _align(means, scores.seeds[run], seed_draws[run].seeds), seed_draws[run].counts)
        p_value, test = _p_value(pair)
        low, high = percentile_interval(draws, level)
        results.append(PairedComparison(pair, low, high, p_value, test, mde(pair.se, alpha, power), draws))
    return results


def _question_replicates(scores: BenchmarkScores, moments: Sequence[PairMoments], resamples: int,
                         rng: np.random.Generator) -> np.ndarray:
    """(B, pairs) bootstrap differences on the native scale from one cluster count matrix (B, clusters), drawn in
    blocks of rows (``count_chunks``)."""
    n = len(scores.questions)
    differences = np.zeros((n, len(moments)))
    sizes = np.zeros((n, len(moments)))
    for column, pair in enumerate(moments):
        d = scores.seed_averaged(pair.a) - scores.seed_averaged(pair.b)
        differences[pair.mask, column] = d[pair.mask]
        sizes[pair.mask, column] = 1.0
    codes = scores.cluster_codes
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    # cluster sums of the differences and cluster sizes side by side: one matrix product per block
    per_cluster = np.add.reduceat(np.hstack([differences, sizes]), starts, axis=0)
    pairs = len(moments)
    blocks = []
    with np.errstate(invalid="ignore", divide="ignore"):
        for counts in count_chunks(scores.clusters, resamples, rng):
            drawn = counts @ per_cluster
            blocks.append(scores.scale * drawn[:, :pairs] / drawn[:, pairs:])
    return np.concatenate(blocks)


def _align(means: np.ndarray, benchmark_seeds: Sequence[str], run_seeds: Sequence[str]) -> np.ndarray:
    """A run's per-seed means on one benchmark placed in the order of its seed draws (NaN for a seed absent)."""
    aligned = np.full(len(run_seeds), np.nan)
    where = {seed: i for i, seed in enumerate(run_seeds)}
    for seed, value in zip(benchmark_seeds, means):
        aligned[where[seed]] = value
    return aligned


def _p_value(pair: PairMoments) -> tuple[float, str]:
    """(p, test name) as the module doc says."""
    if pair.binary and not pair.clustered:
        return mcnemar_exact_counts(pair.a_only, pair.b_only), "mcnemar-exact"
    test = "paired-t" + ("-clustered" if pair.clustered else "") + ("+seeds" if pair.has_seed_term else "")
    se = pair.se
    if not math.isfinite(se):
        return math.nan, test
    if se == 0:
        return (1.0 if pair.diff == 0 else 0.0), test
    df = _satterthwaite(pair)
    return float(min(1.0, 2.0 * student_t.sf(abs(pair.diff) / se, df))), test


def _satterthwaite(pair: PairMoments) -> float:
    """Degrees of freedom of the se (the module doc): clusters - 1 without seeds, Welch-Satterthwaite with."""
    components = [(pair.var_question, pair.clusters - 1)]
    for variance, k in ((pair.seed_var_a, pair.seeds_a), (pair.seed_var_b, pair.seeds_b)):
        if math.isfinite(variance):
            components.append((variance / k, k - 1))
    total = sum(v for v, _ in components)
    denominator = sum(v**2 / df for v, df in components if df > 0 and v > 0)
    return total**2 / denominator if denominator > 0 else float(max(pair.clusters - 1, 1))
