"""McNemar's exact test and Holm's adjustment on hand-worked examples, and the verdict's direction."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import binomtest

from selection_ops.stats.holm import holm
from selection_ops.stats.mcnemar import discordant_counts, mcnemar_exact, mcnemar_exact_counts
from selection_ops.stats.verdicts import verdict


def test_mcnemar_one_against_nine_discordant() -> None:
    # p = 2 * (C(10,0) + C(10,1)) / 2^10 = 2 * 11 / 1024 = 22 / 1024
    assert mcnemar_exact_counts(1, 9) == pytest.approx(22 / 1024, rel=1e-12)
    assert mcnemar_exact_counts(9, 1) == pytest.approx(22 / 1024, rel=1e-12)
    assert mcnemar_exact_counts(1, 9) == pytest.approx(binomtest(1, 10, 0.5).pvalue, rel=1e-12)


def test_mcnemar_on_answers_counts_only_the_discordant_questions() -> None:
    # 30 questions both right, 20 both wrong, 1 only a right, 9 only b right
    a = np.array([1] * 30 + [0] * 20 + [1] + [0] * 9)
    b = np.array([1] * 30 + [0] * 20 + [0] + [1] * 9)
    assert discordant_counts(a, b) == (1, 9)
    assert mcnemar_exact(a, b) == pytest.approx(22 / 1024, rel=1e-12)


def test_mcnemar_without_or_with_balanced_discordance_is_one() -> None:
    assert mcnemar_exact_counts(0, 0) == 1.0
    # 2 * P(X <= 5 | n = 10) = 2 * 638 / 1024 > 1: capped
    assert mcnemar_exact_counts(5, 5) == 1.0
    # 0 vs 6: 2 / 64
    assert mcnemar_exact_counts(0, 6) == pytest.approx(2 / 64, rel=1e-12)
    with pytest.raises(ValueError):
        mcnemar_exact_counts(-1, 3)


def test_holm_hand_worked() -> None:
    # sorted: 0.005 (x4 = 0.02), 0.01 (x3 = 0.03), 0.03 (x2 = 0.06), 0.04 (x1 = 0.04 -> monotone 0.06)
    adjusted = holm([0.01, 0.04, 0.03, 0.005])
    np.testing.assert_allclose(adjusted, [0.03, 0.06, 0.06, 0.02], rtol=1e-12)


def test_holm_caps_at_one_and_leaves_untested_rows_out_of_the_family() -> None:
    np.testing.assert_allclose(holm([0.5, 0.6]), [1.0, 1.0])
    adjusted = holm([0.01, math.nan, 0.02])  # m = 2: 0.01 x 2 = 0.02, 0.02 x 1 -> 0.02
    assert math.isnan(adjusted[1])
    np.testing.assert_allclose(adjusted[[0, 2]], [0.02, 0.02], rtol=1e-12)
    assert holm([]).size == 0
    with pytest.raises(ValueError):
        holm([1.2])


def test_holm_is_monotone_in_the_raw_order() -> None:
    raw = np.random.default_rng(0).random(20) ** 3
    adjusted = holm(raw)
    order = np.argsort(raw)
    assert np.all(np.diff(adjusted[order]) >= 0) and np.all(adjusted >= raw) and np.all(adjusted <= 1)


def test_verdict_reads_the_direction_of_the_benchmark() -> None:
    assert verdict(2.0, 0.01, "mmlu") == "a better"
    assert verdict(-2.0, 0.01, "mmlu") == "b better"
    assert verdict(2.0, 0.2, "mmlu") == "indistinguishable"
    # bits per byte: lower is better
    assert verdict(-0.05, 0.001, "ref_bpb_alpaca") == "a better"
    assert verdict(0.05, 0.001, "ref_bpb_alpaca") == "b better"
    assert verdict(1.0, 0.001, "avg") == "a better"
    assert verdict(1.0, math.nan, "avg") == "indistinguishable"
