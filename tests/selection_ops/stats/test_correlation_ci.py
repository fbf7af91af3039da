"""Correlation intervals, control runs and uninformative benchmarks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import pearsonr, spearmanr

from selection_ops.stats.correlation_ci import control_runs, correlation_interval, rowwise_pearson
from selection_ops.stats.informative import uninformative_benchmarks


def test_points_match_scipy_and_the_interval_surrounds_them() -> None:
    rng = np.random.default_rng(0)
    x = rng.random(12)
    y = x + rng.normal(0, 0.3, 12)
    result = correlation_interval(x, y, resamples=2000, seed=1)
    assert result["n"] == 12
    assert result["pearson"] == pytest.approx(pearsonr(x, y).statistic, rel=1e-12)
    assert result["spearman"] == pytest.approx(spearmanr(x, y).statistic, rel=1e-12)
    for kind in ("pearson", "spearman", "mean"):
        assert -1 <= result[f"{kind}_low"] < result[kind] < result[f"{kind}_high"] <= 1
    # more points, narrower interval
    x2 = rng.random(200)
    wide = correlation_interval(x2[:12], x2[:12] + rng.normal(0, 0.3, 12), resamples=2000)
    narrow = correlation_interval(x2, x2 + rng.normal(0, 0.3, 200), resamples=2000)
    assert narrow["pearson_high"] - narrow["pearson_low"] < 0.5 * (wide["pearson_high"] - wide["pearson_low"])


def test_undefined_correlations_carry_the_reason() -> None:
    result = correlation_interval([1.0, 2.0, 3.0], [5.0, 5.0, 5.0])
    assert result["reason"] == "the performance is the same on every subset" and np.isnan(result["pearson_low"])


def test_rowwise_pearson_marks_constant_rows() -> None:
    r = rowwise_pearson(np.array([[1.0, 2, 3], [1, 1, 1]]), np.array([[2.0, 4, 7], [1, 2, 3]]))
    assert r[0] == pytest.approx(pearsonr([1, 2, 3], [2, 4, 7]).statistic) and np.isnan(r[1])


def test_controls_by_selector_or_by_the_variant_prefix() -> None:
    table = pd.DataFrame({"run": ["duplicate__b8__m", "mig__b8__m", "x", "Duplicate__b16__m"],
                          "selector": [None, "mig", "duplicate", None]})
    assert control_runs(table).tolist() == [True, False, True, True]
    assert control_runs(table.drop(columns="selector"), ("mig",)).tolist() == [False, True, False, False]


def test_uninformative_benchmarks_name_the_reason() -> None:
    table = pd.DataFrame({"bench.gsm8k": [0.0, 0.0, 0.0], "bench.alpacaeval_v2": [50.0, 50.0, np.nan],
                          "bench.mmlu": [40.0, 41.0, 39.0], "bench.ifeval": [np.nan] * 3,
                          "bench.mmlu.stderr": [1.0, 1.0, 1.0]})
    reasons = uninformative_benchmarks(table)
    assert set(reasons) == {"gsm8k", "alpacaeval_v2", "ifeval"}
    assert reasons["gsm8k"].startswith("every run scores 0 (3 runs)")
    assert reasons["alpacaeval_v2"].startswith("every run scores 50 (2 runs)")
    assert reasons["ifeval"] == "no run has a score"
