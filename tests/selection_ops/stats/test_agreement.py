"""Agreement between two studies, on MIG's published Table 1 and on hand-made ties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import kendalltau, spearmanr

from selection_ops.stats.agreement import agreement, agreement_of_tables, decision_accuracy, rowwise_kendall_tau_b

# MIG, Table 1 (Tulu3 pool, 50K samples): the Avg column, for the selectors both base models report
MIG_TABLE_1_AVG = {
    #           Llama3.1-8B  Mistral-7B-v0.3
    "Random": (51.81, 48.51),
    "ZIP": (47.44, 41.37),
    "#InsTag": (51.17, 49.88),
    "DEITA": (52.83, 47.69),
    "CaR": (53.10, 46.58),
    "QDIT": (53.12, 48.84),
    "MIG": (55.32, 51.73),
}


def test_mig_table_1_llama_against_mistral() -> None:
    runs = tuple(MIG_TABLE_1_AVG)
    llama = np.array([v[0] for v in MIG_TABLE_1_AVG.values()])
    mistral = np.array([v[1] for v in MIG_TABLE_1_AVG.values()])
    result = agreement(llama, mistral, runs, "avg", resamples=2000, seed=0)
    assert result.kendall_tau == pytest.approx(kendalltau(llama, mistral).statistic, rel=1e-12)
    assert result.spearman_rho == pytest.approx(spearmanr(llama, mistral).statistic, rel=1e-12)
    # by hand: ZIP is last and MIG first under both models (6 + 5 pairs agree); of the 10 pairs among #InsTag,
    # Random, DEITA, CaR, QDIT (Llama: #InsTag < Random < DEITA < CaR < QDIT; Mistral: CaR < DEITA < Random <
    # QDIT < #InsTag) only Random-QDIT, DEITA-QDIT and CaR-QDIT keep their order: 14 of 21 pairs agree
    assert (result.pairs, result.agree, result.disagree, result.tied_one, result.tied_both) == (21, 14, 7, 0, 0)
    assert result.decision_accuracy == pytest.approx(14 / 21, rel=1e-12)
    assert result.kendall_tau == pytest.approx((14 - 7) / 21, rel=1e-12)
    for name in ("decision_accuracy", "kendall_tau", "spearman_rho"):
        low, high = getattr(result, name + "_low"), getattr(result, name + "_high")
        assert low <= getattr(result, name) <= high and high > low


def test_ties_count_half_in_one_study_and_whole_in_both() -> None:
    # pairs: (0,1) tied in both -> 1; (0,2), (1,2), (2,3) opposite -> 0; (0,3), (1,3) tied in b only -> 1/2 each;
    # the four pairs with run 4 keep their order -> 1 each: (1 + 1 + 4) / 10
    a = np.array([1.0, 1.0, 2.0, 0.5, 3.0])
    b = np.array([1.0, 1.0, 0.0, 1.0, 5.0])
    assert decision_accuracy(a, b) == pytest.approx(6 / 10, rel=1e-12)
    result = agreement(a, b, resamples=200)
    assert (result.agree, result.disagree, result.tied_one, result.tied_both) == (4, 3, 2, 1)
    assert result.kendall_tau == pytest.approx(kendalltau(a, b).statistic, rel=1e-12)


def test_the_vectorised_tau_b_is_scipys_with_ties() -> None:
    rng = np.random.default_rng(1)
    x = rng.integers(0, 4, (50, 9)).astype(float)
    y = rng.integers(0, 4, (50, 9)).astype(float)
    expected = [kendalltau(xi, yi).statistic for xi, yi in zip(x, y)]
    np.testing.assert_allclose(rowwise_kendall_tau_b(x, y), expected, rtol=1e-12)


def test_tables_are_matched_by_run_and_errors_name_the_table() -> None:
    a = pd.DataFrame({"run": ["x", "y", "z", "only_a"], "avg": [1.0, 2.0, 3.0, 9.0]})
    b = pd.DataFrame({"run": ["z", "y", "x", "only_b"], "avg": [30.0, 20.0, 10.0, 0.0]})
    result = agreement_of_tables(a, b, "avg", resamples=100)
    assert result.runs == ("x", "y", "z") and result.decision_accuracy == 1.0
    with pytest.raises(ValueError, match="B.csv: no column 'avg_obj'"):
        agreement_of_tables(a.assign(avg_obj=1.0), b, "avg_obj", source_b="B.csv")
    with pytest.raises(ValueError, match="share 1 run"):
        agreement_of_tables(a, b[b.run == "x"], "avg")
