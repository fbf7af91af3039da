"""What one pair of runs' per-question scores on one benchmark say about their difference, in closed form.

Over the n questions both runs answered, with d_i = a_i - b_i their seed-averaged per-question difference
(``score_arrays``) and s = question_scale(key) (the native scale):

* diff = s x mean(d) (Miller 2024, Adding Error Bars to Evals, Sec. 4: paired differences);
* sd_paired = s x sd(d, ddof=1), the spread of the paired differences;
* var_question = s^2 x Var(mean d), cluster-robust when questions share clusters (``clustered``);
* seed_var_a / seed_var_b = s^2 x the variance across seeds of each run's mean over those questions (``seeds``);
* Var(diff) = var_question + seed_var_a / k_a + seed_var_b / k_b, se = sqrt(Var(diff)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from selection_ops.stats.clustered import clustered_variance_of_mean
from selection_ops.stats.score_arrays import BenchmarkScores
from selection_ops.stats.seeds import seed_means, seed_variance


@dataclass(frozen=True)
class PairMoments:
    """One pair on one benchmark; every quantity on the benchmark's native scale. ``mask`` (n_questions,) marks
    the questions both answered; ``seed_means_a`` / ``_b`` (k,) each seed's mean there (per-question unit)."""

    key: str
    a: str
    b: str
    n: int
    clusters: int  # clusters among the compared questions (= n without clusters)
    clustered: bool
    diff: float
    sd_paired: float
    var_question: float
    seeds_a: int
    seeds_b: int
    seed_var_a: float  # NaN with one seed
    seed_var_b: float
    binary: bool  # every compared score of both runs is 0 or 1 and neither averages seeds
    a_only: int  # 0/1 benchmarks: questions a got right and b wrong (else 0)
    b_only: int
    mask: np.ndarray
    seed_means_a: np.ndarray
    seed_means_b: np.ndarray

    @property
    def seed_term(self) -> float:
        """seed_var_a / k_a + seed_var_b / k_b, the unknown (one-seed) terms left out."""
        terms = [v / k for v, k in ((self.seed_var_a, self.seeds_a), (self.seed_var_b, self.seeds_b))
                 if math.isfinite(v)]
        return float(sum(terms))

    @property
    def has_seed_term(self) -> bool:
        return math.isfinite(self.seed_var_a) or math.isfinite(self.seed_var_b)

    @property
    def variance(self) -> float:
        return self.var_question + self.seed_term

    @property
    def se(self) -> float:
        return math.sqrt(self.variance) if self.variance >= 0 else math.nan

    @property
    def sd_effective(self) -> float:
        """sqrt(n x var_question): the per-question sd with the clusters' design effect folded in (= sd_paired
        without clusters), what a study with more questions of the same make-up would see."""
        return math.sqrt(self.n * self.var_question) if math.isfinite(self.var_question) else math.nan

    @property
    def seed_sd_a(self) -> float:
        return math.sqrt(self.seed_var_a)

    @property
    def seed_sd_b(self) -> float:
        return math.sqrt(self.seed_var_b)


def pair_moments(scores: BenchmarkScores, a: str, b: str) -> PairMoments | None:
    """The moments of runs ``a`` and ``b`` on ``scores``' benchmark; None when they share no question."""
    if a not in scores.per_seed or b not in scores.per_seed:
        return None
    mean_a, mean_b = scores.seed_averaged(a), scores.seed_averaged(b)
    mask = np.isfinite(mean_a) & np.isfinite(mean_b)
    n = int(mask.sum())
    if n == 0:
        return None
    d = mean_a[mask] - mean_b[mask]
    codes = scores.cluster_codes[mask]
    clusters = int(np.unique(codes).size)
    clustered = clusters < n
    scale = scores.scale
    var_question = scale**2 * clustered_variance_of_mean(d, codes if clustered else None)
    seeds_a, seeds_b = scores.per_seed[a][mask], scores.per_seed[b][mask]
    means_a, means_b = seed_means(scores.per_seed[a], mask), seed_means(scores.per_seed[b], mask)
    k_a, k_b = int(np.isfinite(means_a).sum()), int(np.isfinite(means_b).sum())
    binary = (k_a == 1 and k_b == 1 and _zero_one(seeds_a) and _zero_one(seeds_b))
    a_only = int(np.count_nonzero((mean_a[mask] == 1) & (mean_b[mask] == 0))) if binary else 0
    b_only = int(np.count_nonzero((mean_a[mask] == 0) & (mean_b[mask] == 1))) if binary else 0
    return PairMoments(
        key=scores.key, a=a, b=b, n=n, clusters=clusters, clustered=clustered, diff=scale * float(d.mean()),
        sd_paired=scale * float(d.std(ddof=1)) if n >= 2 else math.nan, var_question=var_question,
        seeds_a=k_a, seeds_b=k_b, seed_var_a=scale**2 * seed_variance(means_a),
        seed_var_b=scale**2 * seed_variance(means_b), binary=binary, a_only=a_only, b_only=b_only, mask=mask,
        seed_means_a=means_a, seed_means_b=means_b)


def _zero_one(values: np.ndarray) -> bool:
    finite = values[np.isfinite(values)]
    return bool(np.all((finite == 0) | (finite == 1)))
