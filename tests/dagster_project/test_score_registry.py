"""A benchmark is one registry entry: registering a score key makes it flow to MLflow, the report's A.4 averages and
verdicts, and the main job's table, with no reader changed."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from selection_ops.evaluation.benchmarks import SCORES, ScoreSpec, a4_keys, register_score
from selection_ops.evaluation.questions import higher_is_better, question_scale
from selection_ops.evaluation.records import evaluation_metrics


@pytest.fixture()
def toy():
    spec = register_score(ScoreSpec("toy_bench", "knowledge", "toy_bench", question_scale=100.0, a4=(1.0, 0.0),
                                    binomial=True))
    yield spec
    SCORES.pop("toy_bench")


def test_the_registry_holds_every_reader_fact() -> None:
    assert a4_keys() == ("arc_c", "bbh", "gsm8k", "humaneval", "mmlu", "ifeval", "alpacaeval_v2", "mtbench",
                         "wildbench")
    assert SCORES["mtbench"].a4 == (10.0, 0.0) and SCORES["wildbench"].a4 == (0.5, 100.0)
    assert question_scale("arc_c_acc") == 100.0 and question_scale("arc_c_prob") == 1.0
    assert not higher_is_better("ref_bpb_mtbench") and higher_is_better("arc_c_margin")
    assert SCORES["ref_bpb_alpaca"].a4 is None  # the likelihood channel is never averaged


def test_a_registered_benchmark_flows_to_mlflow_the_report_and_the_table(toy, tmp_path: Path) -> None:
    from dagster_project.run_loop import _table
    from resources.mlflow_tracker import KIND_FINE_TUNE, MlflowTracker
    from selection_ops.report import correlation_report, runs_table
    from selection_ops.study.grid import load_grid

    assert question_scale("toy_bench") == 100.0 and "toy_bench" in a4_keys()
    tracker = MlflowTracker(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}",
                            artifact_root=str(tmp_path / "artifacts"))
    scores = {"a": {"arc_c": 40.0, "toy_bench": 80.0}, "b": {"arc_c": 50.0, "toy_bench": 20.0},
              "c": {"arc_c": 45.0, "toy_bench": 50.0}}
    for name, values in scores.items():
        run_id = tracker.run_for(study="toy", partition=f"{name}__b8__m", kind=KIND_FINE_TUNE, tags={},
                                 run_name=name)
        metrics = evaluation_metrics(values, {}, {"arc_c": 30, "toy_bench": 30})
        assert metrics["avg_obj"] == pytest.approx((values["arc_c"] + values["toy_bench"]) / 2)  # averaged in
        tracker.log(run_id, params={"selector": name}, metrics={**metrics, "diversity.novelsum": len(name) * 0.1
                                                                + values["toy_bench"] / 100})
        tracker.finish(run_id)
    table = runs_table(tracker.find_runs(study="toy", kind=KIND_FINE_TUNE))
    assert set(table["bench.toy_bench"]) == {80.0, 20.0, 50.0}
    report = correlation_report(table, tmp_path / "report", performance="avg_obj", resamples=200,
                                correlation_resamples=200)
    written = pd.read_csv(tmp_path / "report" / "table.csv").set_index("run")
    assert written.loc["a__b8__m", "avg_obj"] == pytest.approx(60.0)
    assert not math.isnan(written.loc["a__b8__m", "bench.toy_bench.stderr"])  # binomial: from n
    assert "novelsum" in report.correlations

    grid = load_grid(Path(__file__).resolve().parents[2] / "dagster_project" / "grids" / "embedded_default.yaml")
    from assets.values import BenchmarkScores

    def value(key, partition=None):  # the typed values the main job loads; only the knowledge half exists here
        if key.path[-1] != "benchmark_scores":
            return None
        return BenchmarkScores(cell="a__b8__m", scores=scores["a"], avg_obj=60.0, requested=("arc_c", "toy_bench"),
                               summary_path="", mlflow_run_id="", n={"arc_c": 30, "toy_bench": 30})

    head, untuned, first = _table(grid, value).splitlines()[:3]
    assert "toy_bench" in head and "avg_obj" in head
    cells = dict(zip(head.replace("base model", "base_model").split(), first.split()))
    assert (cells["toy_bench"], cells["arc_c"], cells["avg_obj"]) == ("80", "40", "60")  # A.4 averaged it in
    assert set(untuned.split()[4:]) == {"-"}  # no baseline value: nothing shown, nothing invented
