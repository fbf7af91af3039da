"""Each asset check passes on a good input and fails, naming the partition and the value, on a bad one made for it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from dagster import AssetCheckSeverity

from assets.checks import (
    annotation_checks,
    evaluation_checks,
    judge_parse_rate_check,
    label_graph_checks,
    selection_checks,
    training_checks,
)


def by_name(results) -> dict:
    return {r.check_name: r for r in results}


def test_selection_checks_pass_on_a_good_selection() -> None:
    assert all(r.passed for r in selection_checks(["a", "b"], ["a", "b", "c"], 2, allows_repeats=False,
                                                  partition="mig__b2"))


@pytest.mark.parametrize("ids, allows_repeats, failing", [
    (["a"], False, "selection_has_budget"),
    (["a", "a"], False, "selection_ids_unique"),
    (["a", "zz"], False, "selection_ids_in_pool"),
])
def test_selection_checks_fail_on_a_bad_selection(ids, allows_repeats, failing) -> None:
    results = by_name(selection_checks(ids, ["a", "b"], 2, allows_repeats=allows_repeats, partition="mig__b2"))
    assert not results[failing].passed
    assert "mig__b2" in results[failing].description
    assert [name for name, r in results.items() if not r.passed] == [failing]


def test_duplicate_may_repeat_ids() -> None:
    results = by_name(selection_checks(["a", "a"], ["a"], 2, allows_repeats=True, partition="duplicate__b2"))
    assert results["selection_ids_unique"].passed


def _annotations(**overrides) -> pd.DataFrame:
    frame = pd.DataFrame({"id": ["x", "y"], "labels": [["a"], ["b"]], "score": [0.2, 0.9],
                          "quality_handcrafted": [0.2, 0.9], "embedding": [np.ones(4), np.zeros(4)]})
    for column, values in overrides.items():
        frame[column] = values
    return frame


def test_annotation_checks_pass_and_fail_on_out_of_range_or_non_finite_scores() -> None:
    assert all(r.passed for r in annotation_checks(_annotations(), expected_dim=4))
    out_of_range = by_name(annotation_checks(_annotations(quality_handcrafted=[0.2, 1.5]), expected_dim=4))
    assert not out_of_range["annotation_scores_in_range"].passed
    assert "quality_handcrafted=1.5" in out_of_range["annotation_scores_in_range"].description
    nan = by_name(annotation_checks(_annotations(score=[np.nan, 0.1]), expected_dim=4))
    assert not nan["annotation_scores_in_range"].passed and "'x'" in nan["annotation_scores_in_range"].description


def test_embedding_check_fails_on_a_wrong_or_mixed_dimension() -> None:
    wrong = by_name(annotation_checks(_annotations(), expected_dim=384))
    assert not wrong["embeddings_have_expected_dimension"].passed
    mixed = _annotations(embedding=[np.ones(4), np.ones(3)])
    assert not by_name(annotation_checks(mixed, expected_dim=None))["embeddings_have_expected_dimension"].passed


def test_label_graph_warns_when_most_labels_are_isolated() -> None:
    good = by_name(label_graph_checks({"n_labels": 10, "n_isolated_labels": 2, "threshold": 0.9}))
    assert all(r.passed for r in good.values())
    bad = by_name(label_graph_checks({"n_labels": 10, "n_isolated_labels": 10, "threshold": 0.9}))
    warning = bad["label_graph_not_mostly_isolated"]
    assert not warning.passed and warning.severity == AssetCheckSeverity.WARN and "100%" in warning.description
    assert not by_name(label_graph_checks({"n_labels": 0, "n_isolated_labels": 0}))["label_graph_has_labels"].passed


def test_training_checks_fail_on_a_nan_or_rising_loss() -> None:
    assert all(r.passed for r in training_checks([(1, 2.0), (2, 1.0)], "mig__b2__m"))
    nan = by_name(training_checks([(1, 2.0), (2, float("nan"))], "mig__b2__m"))
    assert not nan["training_loss_finite"].passed and "mig__b2__m" in nan["training_loss_finite"].description
    rising = by_name(training_checks([(1, 1.0), (2, 1.5)], "mig__b2__m"))
    assert rising["training_loss_finite"].passed and not rising["training_loss_decreased"].passed
    assert "1.5" in rising["training_loss_decreased"].description
    assert rising["training_loss_decreased"].severity.value == "WARN"  # batches differ within an epoch
    assert nan["training_loss_finite"].severity.value == "ERROR"


def test_evaluation_check_fails_when_a_requested_benchmark_is_missing() -> None:
    assert evaluation_checks(["arc_c"], {"arc_c": 40.0}, "c")[0].passed
    missing = evaluation_checks(["arc_c", "gsm8k"], {"arc_c": 40.0}, "mig__b2__m")[0]
    assert not missing.passed and "gsm8k" in missing.description and "mig__b2__m" in missing.description
    assert not evaluation_checks(["arc_c"], {"arc_c": 140.0}, "c")[0].passed


def test_evaluation_check_wants_every_score_of_a_likelihood_dataset_finite_on_its_own_scale() -> None:
    cloze = {"arc_c_prob": 0.37, "arc_c_prob_norm": 0.26, "arc_c_margin": -0.05, "arc_c_acc": 32.0}
    scores = {"arc_c": 40.0, "ref_bpb_alpaca": 1.3, **cloze}  # bits per byte above 1, a negative margin: valid
    assert evaluation_checks(["arc_c", "ref_bpb_alpaca", "arc_c_cloze"], scores, "c")[0].passed
    without_margin = {k: v for k, v in scores.items() if k != "arc_c_margin"}
    failed = evaluation_checks(["arc_c", "arc_c_cloze"], without_margin, "mig__b2__m")[0]
    assert not failed.passed and "arc_c_margin" in failed.description
    assert not evaluation_checks(["ref_bpb_alpaca"], {"ref_bpb_alpaca": float("nan")}, "c")[0].passed


def test_judge_parse_rate_check_fails_below_its_threshold() -> None:
    assert judge_parse_rate_check(0.95, "c").passed
    low = judge_parse_rate_check(0.5, "mig__b2__m", threshold=0.9)
    assert not low.passed and "50.00%" in low.description
