"""Paired comparisons: coverage, pairing, the MDE's closed form and power, clusters, seeds, stability."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from selection_ops.stats.clustered import clustered_se
from selection_ops.stats.paired import compare_benchmark, draw_seeds
from selection_ops.stats.resample import percentile_interval
from selection_ops.stats.score_arrays import benchmark_arrays
from selection_ops.stats.verdicts import paired_verdicts

Z = norm.ppf(0.975) + norm.ppf(0.80)
PROXY = "ref_bpb_alpaca"  # native scale = the per-question unit; not an A.4 benchmark (no aggregate rows)


def _compare(table: pd.DataFrame, key: str, resamples: int = 1000, seed: int = 0, pairs=(("a", "b"),)):
    arrays = benchmark_arrays(table)
    rng = np.random.default_rng(seed)
    seeds = {run: arrays[key].seeds[run] for run in arrays[key].seeds}
    draws = draw_seeds(seeds, resamples, rng)
    return compare_benchmark(arrays[key], list(pairs), rng=rng, resamples=resamples, seed_draws=draws)


def test_the_paired_bootstrap_covers_the_true_difference_at_about_the_nominal_rate(question_table) -> None:
    rng = np.random.default_rng(11)
    true_difference, covered = 0.3, 0
    for dataset in range(200):
        difficulty = rng.normal(0, 2, 120)
        a = difficulty + true_difference + rng.normal(0, 1, 120)
        b = difficulty + rng.normal(0, 1, 120)
        (result,) = _compare(question_table({"a": a, "b": b}, PROXY), PROXY, seed=dataset)
        covered += result.ci_low <= true_difference <= result.ci_high
    assert 0.91 <= covered / 200 <= 0.98


def test_pairing_narrows_the_interval_of_a_correlated_pair(question_table) -> None:
    rng = np.random.default_rng(3)
    difficulty = rng.normal(0, 2, 300)
    a = difficulty + 0.3 + rng.normal(0, 0.5, 300)
    b = difficulty + rng.normal(0, 0.5, 300)
    (paired,) = _compare(question_table({"a": a, "b": b}, PROXY), PROXY, resamples=2000)
    # the unpaired bootstrap: each run's questions drawn on their own
    index_a, index_b = rng.integers(0, 300, (2, 2000, 300))
    unpaired = a[index_a].mean(axis=1) - b[index_b].mean(axis=1)
    low, high = percentile_interval(unpaired)
    assert paired.ci_low <= a.mean() - b.mean() <= paired.ci_high
    assert (paired.ci_high - paired.ci_low) < 0.5 * (high - low)


def test_the_mde_is_the_closed_form_on_the_native_scale(question_table) -> None:
    rng = np.random.default_rng(5)
    a, b = rng.normal(1.0, 1.0, 400), rng.normal(0.8, 1.0, 400)
    (result,) = _compare(question_table({"a": a, "b": b}, PROXY), PROXY)
    sd = np.std(a - b, ddof=1)
    assert result.moments.sd_paired == pytest.approx(sd, rel=1e-12)
    assert result.mde == pytest.approx(Z * sd / math.sqrt(400), rel=1e-12)
    assert Z == pytest.approx(2.8016, abs=1e-4)
    # a 0/1 benchmark: the native scale is percent, so the MDE is 100 x the per-question one
    x, y = (rng.random(400) < 0.6).astype(float), (rng.random(400) < 0.5).astype(float)
    (percent,) = _compare(question_table({"a": x, "b": y}, "arc_c"), "arc_c")
    assert percent.mde == pytest.approx(100 * Z * np.std(x - y, ddof=1) / math.sqrt(400), rel=1e-12)
    assert percent.moments.diff == pytest.approx(100 * (x.mean() - y.mean()), rel=1e-12)


def test_at_the_mde_the_test_rejects_about_eighty_percent_of_the_time(question_table) -> None:
    rng = np.random.default_rng(17)
    n, sigma = 200, 1.0
    effect = Z * sigma / math.sqrt(n)  # the population MDE
    rejected = 0
    for dataset in range(300):
        b = rng.normal(0, 2, n)
        a = b + effect + rng.normal(0, sigma, n)
        (result,) = _compare(question_table({"a": a, "b": b}, PROXY), PROXY, resamples=10, seed=dataset)
        assert result.test == "paired-t"
        rejected += result.p_value < 0.05
    assert 0.72 <= rejected / 300 <= 0.88


def test_zero_one_scores_use_mcnemars_exact_test(question_table) -> None:
    a = np.array([1.0] * 30 + [0] * 20 + [1] + [0] * 9)
    b = np.array([1.0] * 30 + [0] * 20 + [0] + [1] * 9)
    (result,) = _compare(question_table({"a": a, "b": b}, "mmlu"), "mmlu")
    assert result.test == "mcnemar-exact" and result.p_value == pytest.approx(22 / 1024, rel=1e-12)
    assert result.moments.diff == pytest.approx(100 * (1 - 9) / 60)


def test_only_questions_both_runs_answered_are_compared(question_table) -> None:
    table = question_table({"a": np.array([1.0, 2, 3, 4]), "b": np.array([0.0, 0, 0, 0])}, PROXY)
    table = table.drop(index=table.index[(table.run == "b") & (table.question == "q3")])
    (result,) = _compare(table, PROXY)
    assert result.moments.n == 3 and result.moments.diff == pytest.approx(2.0)


def test_clustered_errors_are_wider_when_clusters_are_correlated(question_table) -> None:
    rng = np.random.default_rng(8)
    clusters = np.repeat(np.arange(60), 5)
    shared = rng.normal(0, 1.0, 60)[clusters]  # a cluster's questions move together in the difference
    b = rng.normal(0, 1, 300)
    a = b + 0.1 + shared + rng.normal(0, 0.3, 300)
    d = a - b
    assert clustered_se(d, clusters) > 1.5 * clustered_se(d)
    # one question per cluster gives back sd / sqrt(n) exactly
    assert clustered_se(d, np.arange(300)) == pytest.approx(np.std(d, ddof=1) / math.sqrt(300), rel=1e-12)
    (clustered,) = _compare(question_table({"a": a, "b": b}, PROXY, clusters=clusters), PROXY, resamples=4000)
    (naive,) = _compare(question_table({"a": a, "b": b}, PROXY), PROXY, resamples=4000)
    assert clustered.test == "paired-t-clustered" and naive.test == "paired-t"
    assert clustered.moments.se == pytest.approx(clustered_se(d, clusters), rel=1e-12)
    assert clustered.moments.clusters == 60
    assert (clustered.ci_high - clustered.ci_low) > 1.5 * (naive.ci_high - naive.ci_low)
    assert clustered.mde > 1.5 * naive.mde


def test_seeds_are_averaged_per_question_and_their_variance_widens_the_verdict(question_table) -> None:
    rng = np.random.default_rng(21)
    n = 500
    difficulty = rng.normal(0, 1, n)
    # each seed of a run shifts its whole benchmark mean (a seed effect) on top of per-question noise
    seeds = {run: [difficulty + shift + offset + rng.normal(0, 0.5, n) for offset in rng.normal(0, 0.3, 3)]
             for run, shift in (("a", 0.2), ("b", 0.0))}
    with_seeds = question_table({}, PROXY, seeds=seeds)
    averaged = {run: np.mean(per_seed, axis=0) for run, per_seed in seeds.items()}
    without_seeds = question_table(averaged, PROXY)
    (seeded,) = _compare(with_seeds, PROXY, resamples=4000)
    (flat,) = _compare(without_seeds, PROXY, resamples=4000)
    m = seeded.moments
    assert m.diff == pytest.approx(averaged["a"].mean() - averaged["b"].mean(), rel=1e-12)
    assert (m.seeds_a, m.seeds_b) == (3, 3)
    assert m.seed_sd_a == pytest.approx(np.std([s.mean() for s in seeds["a"]], ddof=1), rel=1e-12)
    assert m.seed_sd_b == pytest.approx(np.std([s.mean() for s in seeds["b"]], ddof=1), rel=1e-12)
    assert m.var_question == pytest.approx(flat.moments.var_question, rel=1e-12)
    assert m.se == pytest.approx(math.sqrt(m.var_question + m.seed_var_a / 3 + m.seed_var_b / 3), rel=1e-12)
    assert seeded.test == "paired-t+seeds" and flat.test == "paired-t"
    assert (seeded.ci_high - seeded.ci_low) > 1.3 * (flat.ci_high - flat.ci_low)
    assert seeded.mde > 1.3 * flat.mde and seeded.p_value > flat.p_value
    # the bootstrap's spread matches the analytic se (the seed stage is inflated to s2 / k exactly)
    assert np.std(seeded.replicates, ddof=1) == pytest.approx(m.se, rel=0.1)


def test_interval_ends_are_stable_to_a_tenth_of_a_point_across_bootstrap_seeds(question_table) -> None:
    """A realistic case: 1,200 0/1 questions (MMLU-sized slice), accuracies near 60 %, a quarter of answers
    differing; the default 10,000 resamples."""
    rng = np.random.default_rng(7)
    a = (rng.random(1200) < 0.62).astype(float)
    b = np.where(rng.random(1200) < 0.25, 1 - a, a)
    table = question_table({"a": a, "b": b}, "mmlu")
    first = paired_verdicts(table, seed=0).set_index("benchmark").loc["mmlu"]
    second = paired_verdicts(table, seed=1).set_index("benchmark").loc["mmlu"]
    assert abs(first.ci_low - second.ci_low) < 0.1 and abs(first.ci_high - second.ci_high) < 0.1
    assert first.ci_high - first.ci_low > 4  # the interval itself is points wide: the test is not vacuous
