"""The correlation report: values against scipy, plots written, and an explanation instead of a failure."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import pearsonr, spearmanr

from selection_ops.report import correlation_report


def table(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    novelsum = rng.random(n)
    return pd.DataFrame({
        "partition": [f"sel{i}__b8__m" for i in range(n)],
        "diversity.novelsum": novelsum,
        "diversity.vendi": rng.random(n),
        "bench.arc_c": 30 + 10 * novelsum + rng.random(n),
        "bench.mmlu": 20 + rng.random(n),
        "avg_obj": 25 + 5 * novelsum,
    })


def test_correlations_match_scipy_and_plots_exist(tmp_path: Path) -> None:
    data = table(5)
    report = correlation_report(data, tmp_path)
    assert report.points == 5
    expected_p = pearsonr(data["diversity.vendi"], data["avg_obj"]).statistic
    expected_s = spearmanr(data["diversity.vendi"], data["avg_obj"]).statistic
    vendi = report.correlations["vendi"]
    assert vendi["pearson"] == pytest.approx(expected_p)
    assert vendi["spearman"] == pytest.approx(expected_s)
    assert vendi["mean"] == pytest.approx((expected_p + expected_s) / 2)
    # avg_obj is an increasing linear function of novelsum: both coefficients are exactly 1.
    assert report.correlations["novelsum"]["pearson"] == pytest.approx(1.0)
    assert report.correlations["novelsum"]["spearman"] == pytest.approx(1.0)
    assert "novelsum.vs_zsum" in report.correlations
    assert (tmp_path / "scatter_novelsum.png").stat().st_size > 1000
    saved = json.loads((tmp_path / "report.json").read_text())
    assert saved["points"] == 5 and set(saved["correlations"]) == set(report.correlations)
    assert "| novelsum |" in report.markdown()
    # every flattened name is a legal MLflow metric name (alphanumerics, _ - . space : /)
    import re

    assert report.flat_metrics() and all(re.fullmatch(r"[\w\-. :/]+", k) for k in report.flat_metrics())


def test_fewer_than_three_points_is_explained_not_failed(tmp_path: Path) -> None:
    report = correlation_report(table(2), tmp_path)
    assert report.points == 2 and report.correlations == {}
    assert "at least 3" in report.message
    assert report.flat_metrics() == {}


def test_a_constant_performance_leaves_every_correlation_undefined_with_the_reason(tmp_path: Path) -> None:
    data = table(4)
    data["avg_obj"] = 10.0
    report = correlation_report(data, tmp_path)
    assert report.reasons["novelsum"] == "the performance is the same on every subset"
    assert "the performance is the same" in report.markdown()
    assert json.loads((tmp_path / "report.json").read_text())["undefined"]["vendi"]


def test_the_flat_metrics_are_accepted_by_a_real_mlflow_store(tmp_path: Path) -> None:
    from resources.mlflow_tracker import MlflowTracker

    report = correlation_report(table(5), tmp_path / "report")
    tracker = MlflowTracker(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}", artifact_root=str(tmp_path / "art"))
    run_id = tracker.run_for(study="s", partition="report__s", kind="correlation-report", tags={})
    tracker.log(run_id, metrics=report.flat_metrics(), artifacts={"report": tmp_path / "report"})
    logged = tracker.client().get_run(run_id).data.metrics
    assert logged["novelsum.vs_zsum.mean"] == pytest.approx(report.correlations["novelsum.vs_zsum"]["mean"])
    assert logged.keys() == report.flat_metrics().keys()


def test_controls_are_reported_apart_and_a_constant_benchmark_is_left_out(tmp_path: Path) -> None:
    from selection_ops.correlation import aggregate_performance
    from selection_ops.stats.informative import uninformative_benchmarks

    rng = np.random.default_rng(1)
    novelsum = np.array([0.5, 0.6, 0.7, 0.8, 0.9, 0.05])
    data = pd.DataFrame({
        "run": [f"sel{i}__b8__m" for i in range(5)] + ["duplicate__b8__m"],
        "diversity.novelsum": novelsum,
        "bench.arc_c": 40 + rng.normal(0, 3, 6) + np.where(novelsum < 0.1, -30, 0),
        "bench.mmlu": 30 + rng.normal(0, 3, 6),
        "bench.gsm8k": 0.0,  # a broken answer extraction: every run 0
        "bench.arc_c_prob": 0.25,  # a proxy (likelihood channel) that cannot rank the runs either
        "bench.ref_bpb_alpaca": 1.0 - novelsum / 10,  # a proxy that can
    })
    report = correlation_report(data, tmp_path)
    assert report.uninformative == uninformative_benchmarks(data)
    assert set(report.uninformative) == {"gsm8k", "arc_c_prob"}
    assert report.proxy["benchmarks"] == ["arc_c_prob", "ref_bpb_alpaca"]
    assert report.proxy["correlations"]["arc_c_prob"] == {"left_out": report.uninformative["arc_c_prob"]}
    assert report.proxy["correlations"]["ref_bpb_alpaca"]["metrics"]["novelsum"]["pearson"] == pytest.approx(-1.0)
    table = pd.read_csv(tmp_path / "table.csv")
    expected = aggregate_performance({c: table[c].to_numpy() for c in ("bench.arc_c", "bench.mmlu")})
    np.testing.assert_allclose(table["zsum"], expected, rtol=1e-12)
    assert report.controls == ["duplicate__b8__m"]
    assert report.correlations["novelsum"]["n"] == 6 and report.correlations_without_controls["novelsum"]["n"] == 5
    assert report.performance == "avg_obj"  # A.4 keeps gsm8k (it shifts every run alike); zsum does not
    assert table["avg_obj"].to_numpy() == pytest.approx(table[["bench.arc_c", "bench.mmlu", "bench.gsm8k"]].mean(1))
    assert report.correlations["novelsum"]["pearson"] == pytest.approx(
        pearsonr(novelsum, table["avg_obj"]).statistic, rel=1e-12)
    assert report.correlations_without_controls["novelsum"]["pearson"] == pytest.approx(
        pearsonr(novelsum[:5], table["avg_obj"][:5]).statistic, rel=1e-12)
    flat = report.flat_metrics()
    assert "without_controls.novelsum.pearson" in flat and "novelsum.pearson_low" in flat
    markdown = report.markdown()
    assert "benchmark gsm8k left out of zsum" in markdown and "without the control runs duplicate__b8__m" in markdown
    saved = json.loads((tmp_path / "report.json").read_text())
    assert saved["controls"]["runs"] == ["duplicate__b8__m"] and "gsm8k" in saved["uninformative"]


def test_seeds_of_a_cell_are_pooled_into_one_row_and_one_paired_unit(tmp_path: Path) -> None:
    from selection_ops.report import pool_seed_runs

    rng = np.random.default_rng(3)
    rows, questions = [], []
    for cell, seeds, level in (("mig__b8__m", (0, 1), 0.7), ("random__b8__m", (0, 1), 0.4), (None, (None,), 0.5)):
        for seed in seeds:
            run = "baseline__m" if cell is None else cell.replace("__b8", "__b8" if seed == 0 else f"__b8-s{seed}")
            answers = (rng.random(200) < level).astype(float)
            rows.append({"run": run, "run_id": run, "cell": cell, "train_seed": None if seed is None else str(seed),
                         "base_model": "m", "bench.arc_c": 100 * answers.mean(), "bench.arc_c.stderr": 1.0,
                         "diversity.vendi": np.nan if cell is None else 10.0 + seed + level})
            questions += [{"run": run, "benchmark": "arc_c", "question": f"q{i}", "score": a}
                          for i, a in enumerate(answers)]
    table, pooled_questions = pool_seed_runs(pd.DataFrame(rows), pd.DataFrame(questions))
    assert sorted(table["run"]) == ["baseline__m", "mig__b8__m", "random__b8__m"]
    mig = table.set_index("run").loc["mig__b8__m"]
    per_seed = [r["bench.arc_c"] for r in rows if r["cell"] == "mig__b8__m"]
    assert mig["bench.arc_c"] == pytest.approx(np.mean(per_seed)) and mig["seeds"] == 2
    assert np.isnan(mig["bench.arc_c.stderr"]) and table.set_index("run").loc["baseline__m", "seeds"] == 1
    mig_questions = pooled_questions[pooled_questions["run"] == "mig__b8__m"]
    assert len(mig_questions) == 400 and sorted(mig_questions["seed"].unique()) == [0, 1]

    report = correlation_report(table, tmp_path, questions=pooled_questions)
    pairs = pd.read_csv(tmp_path / "pairs.csv")
    row = pairs[(pairs["benchmark"] == "arc_c") & (pairs["a"] == "mig__b8__m") & (pairs["b"] == "random__b8__m")]
    assert row["seeds_a"].item() == 2 and row["seeds_b"].item() == 2 and row["verdict"].item() == "a better"
    assert np.isfinite(row["seed_sd_a"].item()) and report.pairs


def test_one_seed_studies_keep_their_run_names(tmp_path: Path) -> None:
    from selection_ops.report import pool_seed_runs

    table = pd.DataFrame([{"run": "mig__b8__m", "cell": "mig__b8__m", "bench.arc_c": 50.0},
                          {"run": "baseline__m", "cell": None, "bench.arc_c": 40.0}])
    pooled, questions = pool_seed_runs(table, None)
    assert pooled is table and questions is None
