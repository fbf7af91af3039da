"""Correlation (NovelSum Eq. 5-6) against scipy.stats and hand-worked numbers; degenerate inputs give NaN + reason."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from selection_ops.correlation import aggregate_performance, correlate, correlation_table, zscores


def test_hand_example() -> None:
    # x = 1..4, y = 1,3,2,4: sum dx dy = 4, sum dx^2 = sum dy^2 = 5 -> r = 0.8; ranks are the values -> rho = 0.8
    result = correlate([1, 2, 3, 4], [1, 3, 2, 4], metric="m")
    assert (result.pearson, result.spearman, result.mean) == pytest.approx((0.8, 0.8, 0.8))
    assert result.n == 4 and result.reason is None


def test_monotone_nonlinear_relation() -> None:
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    result = correlate(x, x**3)
    assert result.spearman == pytest.approx(1.0)
    assert result.pearson < 1.0
    assert result.mean == pytest.approx((result.pearson + 1.0) / 2)


def test_matches_scipy_with_ties() -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 6, size=25).astype(float)  # many ties
    y = x * 0.5 + rng.normal(size=25)
    result = correlate(x, y)
    assert result.pearson == pytest.approx(stats.pearsonr(x, y)[0], rel=1e-10)
    assert result.spearman == pytest.approx(stats.spearmanr(x, y)[0], rel=1e-10)


def test_degenerate_inputs_give_nan_with_reason() -> None:
    two = correlate([1.0, 2.0], [3.0, 4.0], metric="novelsum")
    assert math.isnan(two.pearson) and math.isnan(two.mean) and "at least 3" in two.reason and two.n == 2
    constant = correlate([1.0, 1.0, 1.0], [1.0, 2.0, 3.0])
    assert math.isnan(constant.spearman) and "metric has the same value" in constant.reason
    flat_perf = correlate([1.0, 2.0, 3.0], [5.0, 5.0, 5.0])
    assert "performance is the same" in flat_perf.reason
    with_nan = correlate([1.0, 2.0, np.nan, 4.0], [1.0, 3.0, 2.0, np.nan])
    assert with_nan.n == 2 and "got 2" in with_nan.reason
    with pytest.raises(ValueError, match="equal-length"):
        correlate([1.0, 2.0, 3.0], [1.0, 2.0])


def test_zscores_and_eq5_aggregate() -> None:
    np.testing.assert_allclose(zscores([1.0, 2.0, 3.0]), [-math.sqrt(1.5), 0.0, math.sqrt(1.5)])
    np.testing.assert_allclose(zscores([1.0, 2.0, 3.0]), stats.zscore([1.0, 2.0, 3.0]))
    mt_bench = [6.0, 7.0, 8.0]
    alpaca = [70.0, 80.0, 75.0]  # z = -1.2247, 1.2247, 0
    np.testing.assert_allclose(aggregate_performance({"mt_bench": mt_bench, "alpaca_eval": alpaca}),
                               stats.zscore(mt_bench) + stats.zscore(alpaca))
    np.testing.assert_allclose(aggregate_performance({"flat": [2.0, 2.0, 2.0]}), [0.0, 0.0, 0.0])
    assert np.isnan(aggregate_performance({"a": [1.0, np.nan, 3.0]})[1])
    with pytest.raises(ValueError, match="different numbers"):
        aggregate_performance({"a": [1.0, 2.0], "b": [1.0]})


def test_table_matches_subsets_by_key() -> None:
    metric_values = {"kmeans": {"novelsum": 0.69, "vendi": 3.0}, "random": {"novelsum": 0.67, "vendi": 1.0},
                     "dup": {"novelsum": 0.46, "vendi": 2.0}, "untrained": {"novelsum": 0.1, "vendi": 9.0}}
    performance = {"dup": -1.35, "random": 1.20, "kmeans": 1.32}
    table = correlation_table(metric_values, performance)
    assert set(table) == {"novelsum", "vendi"}
    assert table["novelsum"].n == 3 and table["novelsum"].spearman == pytest.approx(1.0)
    x, y = [0.69, 0.67, 0.46], [1.32, 1.20, -1.35]
    assert table["novelsum"].pearson == pytest.approx(stats.pearsonr(x, y)[0])
    assert table["vendi"].spearman == pytest.approx(0.5)  # ranks (3, 1, 2) vs (3, 2, 1)
