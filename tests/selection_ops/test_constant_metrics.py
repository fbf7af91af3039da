"""The report leaves out a metric that takes one value on every subset, and says why."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from selection_ops.correlation import constant_metrics
from selection_ops.report import correlation_report


def test_constant_metrics_names_the_reason() -> None:
    reasons = constant_metrics({"cluster_inertia": [0.0, 0.0, 0.0], "entropy": [3.4657, math.nan, 3.4657],
                                "novelsum": [0.1, 0.2, 0.3], "missing": [math.nan] * 3, "single": [1.0]})
    assert reasons == {"cluster_inertia": "the same value (0) on all 3 subsets",
                       "entropy": "the same value (3.4657) on all 2 subsets", "missing": "no subset has a value"}


def test_report_has_no_row_for_a_constant_metric(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    novelsum = rng.random(4)
    table = pd.DataFrame({"partition": [f"s{i}__b32__m" for i in range(4)], "diversity.novelsum": novelsum,
                          "diversity.cluster_inertia": 0.0, "diversity.partition_entropy": np.log(32),
                          "bench.arc_c": rng.random(4), "bench.mmlu": rng.random(4), "avg_obj": novelsum + 1})
    report = correlation_report(table, tmp_path)
    assert set(report.correlations) == {"novelsum", "novelsum.vs_zsum"}
    assert set(report.left_out) == {"cluster_inertia", "partition_entropy"}
    markdown = report.markdown()
    assert "| cluster_inertia |" not in markdown and "left out: cluster_inertia (the same value (0)" in markdown
    assert not (tmp_path / "scatter_cluster_inertia.png").exists()
    assert json.loads((tmp_path / "report.json").read_text())["left_out"]["partition_entropy"].startswith("the same")
