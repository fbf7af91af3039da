"""The MLflow metric names and Dagster metadata of one evaluation, as the report reads them back."""

from __future__ import annotations

import math
import re

import pytest

from selection_ops.evaluation.records import evaluation_metadata, evaluation_metrics


def test_metrics_carry_scores_noise_and_the_a4_columns() -> None:
    scores = {"arc_c": 40.0, "gsm8k": 10.0, "alpacaeval_v2": 50.0, "mtbench": 5.0}
    stderr = {"arc_c": 5.0, "gsm8k": 3.0, "alpacaeval_v2": 35.0, "mtbench": math.nan}
    metrics = evaluation_metrics(scores, stderr, {"arc_c": 100, "gsm8k": 10, "alpacaeval_v2": 2, "mtbench": 1},
                                 {"alpacaeval_v2": 1.0, "mtbench": 0.5})
    assert metrics["bench.mtbench"] == 5.0 and "bench.mtbench.stderr" not in metrics  # unknown, left out
    assert metrics["bench.arc_c.stderr"] == 5.0 and metrics["bench.gsm8k.n"] == 10.0
    assert metrics["avg_obj"] == 25.0 and metrics["avg_sub"] == pytest.approx((50 + 50) / 2)
    assert metrics["avg"] == pytest.approx(37.5) and "avg_sub.stderr" not in metrics
    assert metrics["parse_rate.mtbench"] == 0.5
    assert all(re.fullmatch(r"[\w\-. :/]+", name) for name in metrics)  # legal MLflow metric names
    metadata = evaluation_metadata(scores, stderr, {"arc_c": 100}, "embedded:x/probability", {"mtbench": 0.5})
    assert metadata["mtbench/judge"] == "embedded:x/probability" and metadata["mtbench/parse_rate"] == 0.5
    assert metadata["arc_c/n"] == 100 and "arc_c/judge" not in metadata
