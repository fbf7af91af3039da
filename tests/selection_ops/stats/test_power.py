"""Power: the closed forms, and the table a study is planned from."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from selection_ops.stats.power import mde, power_table, questions_needed, seeds_needed, z_sum

Z = norm.ppf(0.975) + norm.ppf(0.80)


def test_closed_forms() -> None:
    assert z_sum() == pytest.approx(Z, rel=1e-12)
    assert mde(1.5) == pytest.approx(Z * 1.5, rel=1e-12)
    # n = Z^2 sd^2 / T^2 = 2.8016^2 * 50^2 / 2^2 = 4905.6 -> 4906
    assert questions_needed(2.0, 50.0) == math.ceil(Z**2 * 50.0**2 / 4.0)
    # a seed term eats into the target: T^2 - Z^2 * 0.25 left for the questions
    assert questions_needed(2.0, 50.0, 0.25) == math.ceil(Z**2 * 2500 / (4 - Z**2 * 0.25))
    assert questions_needed(1.0, 50.0, 1.0) == math.inf  # the seed term alone exceeds (T / Z)^2
    # k = Z^2 (s2_a + s2_b) / (T^2 - Z^2 var_q)
    assert seeds_needed(2.0, 0.1, 0.5, 0.3) == math.ceil(Z**2 * 0.8 / (4 - Z**2 * 0.1))
    assert seeds_needed(2.0, 0.1, math.nan, 0.3) == math.ceil(Z**2 * 0.6 / (4 - Z**2 * 0.1))  # borrows b's
    assert math.isnan(seeds_needed(2.0, 0.1, math.nan, math.nan))
    assert seeds_needed(0.5, 0.1, 0.5, 0.3) == math.inf
    with pytest.raises(ValueError):
        questions_needed(0.0, 1.0)


def test_a_study_with_the_needed_questions_sees_the_target(question_table) -> None:
    rng = np.random.default_rng(2)
    n = 300
    b = rng.normal(0, 2, n)
    a = b + rng.normal(0.1, 1.0, n)
    rows = power_table(question_table({"a": a, "b": b}, "ref_bpb_mtbench"), [("a", "b")], target_mde=0.1)
    (row,) = rows.to_dict("records")
    sd = np.std(a - b, ddof=1)
    assert row["n"] == n and row["sd_paired"] == pytest.approx(sd, rel=1e-12)
    assert row["mde"] == pytest.approx(Z * sd / math.sqrt(n), rel=1e-12)
    needed = row["questions_needed"]
    assert needed == math.ceil(Z**2 * sd**2 / 0.1**2)
    # with that many questions the MDE falls to the target (and one fewer stays above it)
    assert Z * sd / math.sqrt(needed) <= 0.1 < Z * sd / math.sqrt(needed - 1)
    assert math.isnan(row["seeds_needed"]) and row["seeds_a"] == 1


def test_power_table_with_seeds_and_a_benchmark_filter(question_table) -> None:
    rng = np.random.default_rng(4)
    seeds = {run: [rng.normal(shift + offset, 1.0, 200) for offset in rng.normal(0, 0.2, 3)]
             for run, shift in (("a", 0.3), ("b", 0.0))}
    table = question_table({}, "wildbench", seeds=seeds)
    table = table._append(question_table({"a": rng.random(50), "b": rng.random(50)}, "ref_bpb_alpaca"))
    rows = power_table(table, [("a", "b")], target_mde=0.4, benchmark="wildbench")
    assert list(rows["benchmark"]) == ["wildbench"]
    row = rows.iloc[0]
    assert row["seeds_a"] == 3 and row["seed_sd_a"] > 0 and np.isfinite(row["seeds_needed"])
    with pytest.raises(ValueError, match="no benchmark 'mmlu'"):
        power_table(table, [("a", "b")], benchmark="mmlu")
    with pytest.raises(ValueError, match=r"no run\(s\) \['c'\]"):
        power_table(table, [("a", "c")])
