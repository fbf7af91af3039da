"""The whole loop at its smallest settings, through the real main job (subprocess, real Dagster instance,
real LLaMA-Factory and OpenCompass CLIs, real MLflow SQLite store); the "small" resource set of the definitions."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from selection_ops.foundation.paths import REPO_ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

GRID = """
study: e2e
seed: 0
pool:
  limit_per_source: 12
selectors: [mig, random, kcenter]
train: [mig, random]
budgets: [8]
base_models:
  smollm2-135m: embedded
pool_row: true
"""
MODEL = "smollm2-135m"
SELECTIONS = {"b8|mig", "b8|random", "b8|kcenter"}
TRAINED = {"b8|mig", "b8|random"}


@pytest.fixture(scope="module")
def loop_run(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> dict:
    home = tmp_path_factory.mktemp("infosift_home")
    grid = home / "grid.yaml"
    grid.write_text(GRID)
    env = {**os.environ, "INFOSIFT_HOME": str(home), "INFOSIFT_DATA_DIR": str(data_dir), "INFOSIFT_ENV": "small",
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    for name in ("DAGSTER_HOME", "MLFLOW_TRACKING_URI", "INFOSIFT_GRID"):
        env.pop(name, None)
    proc = subprocess.run([sys.executable, "-m", "dagster_project.run_loop", "--grid", str(grid)], cwd=REPO_ROOT,
                          env=env, capture_output=True, text=True, timeout=2700)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-6000:]
    again = subprocess.run([sys.executable, "-m", "dagster_project.run_loop", "--grid", str(grid)], cwd=REPO_ROOT,
                           env=env, capture_output=True, text=True, timeout=2700)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-6000:]
    return {"home": home, "stdout": proc.stdout, "stderr": proc.stderr, "again": again.stdout, "grid": grid,
            "study": home / "studies" / "e2e"}


def test_main_job_is_quiet_and_prints_how_to_open_both_uis_on_this_grid(loop_run: dict) -> None:
    out = loop_run["stdout"]
    assert f"INFOSIFT_GRID={loop_run['grid']}" in out and "dagster dev" in out
    assert f"DAGSTER_HOME={loop_run['study'] / 'dagster'}" in out
    assert f"mlflow ui --backend-store-uri sqlite:///{loop_run['home'] / 'mlflow.db'}" in out
    assert "STEP_START" not in out + loop_run["stderr"]  # Dagster's event stream went to the log file
    assert "STEP_START" in (loop_run["study"] / "logs" / "run_loop.log").read_text()
    # one line per stage and partition, the grid's table, one verdict line per benchmark and average, the UI commands;
    # besides them only the once-a-minute lines of steps that ran longer, each naming its step and minutes
    ticks = [line for line in out.splitlines() if re.search(r" running \d+ min", line)]
    steps = (MODEL, "pool", "annotations", "label_graph", "selection", "diversity_correlation")
    assert all(line.startswith(steps) for line in ticks), ticks
    assert len(out.splitlines()) - len(ticks) < 50
    assert "viewStateShareKey=infosift-comparison" in out  # the MLflow link to the study's comparison view
    verdicts = out[out.index("Paired verdicts"):]
    assert all(f"  {key} " in verdicts for key in ("avg", "arc_c", "ref_bpb_alpaca", "mtbench"))
    table = out[out.index("variant"):]
    assert "mig" in table and "avg_obj" in table and "avg_sub" in table and "novelsum" in table
    assert "(untuned)" in table and "(pool)" in table


def test_an_identical_rerun_does_nothing(loop_run: dict) -> None:
    steps = [line for line in loop_run["again"].splitlines() if line.startswith(("pool", "selection", MODEL))]
    assert steps and all("up to date" in line for line in steps), loop_run["again"]


def test_every_stage_is_materialized_in_the_studys_instance(loop_run: dict) -> None:
    from dagster import AssetKey, DagsterInstance

    with DagsterInstance.from_config(str(loop_run["study"] / "dagster")) as instance:
        for asset in ("pool", "annotations", "label_graph", "diversity_correlation"):
            assert instance.get_latest_materialization_event(AssetKey(asset)) is not None, asset
        assert instance.get_materialized_partitions(AssetKey("selection")) == SELECTIONS
        assert instance.get_materialized_partitions(AssetKey([MODEL, "fine_tuned_model"])) == TRAINED
        assert instance.get_materialized_partitions(AssetKey([MODEL, "benchmark_scores"])) == TRAINED
        assert instance.get_materialized_partitions(AssetKey([MODEL, "preference_scores"])) == TRAINED
        for reference in ("baseline_scores", "pool_fine_tuned_model", "pool_scores"):
            assert instance.get_latest_materialization_event(AssetKey([MODEL, reference])) is not None, reference


def test_mlflow_holds_the_study_every_selection_and_the_report_with_images(loop_run: dict) -> None:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{loop_run['home'] / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("e2e")
    runs = client.search_runs([experiment.experiment_id])
    assert all(r.info.status == "FINISHED" and r.info.end_time for r in runs)
    kind = {r.info.run_id: r.data.tags["infosift.kind"] for r in runs}
    (study_run,) = [r for r in runs if kind[r.info.run_id] == "study"]
    selections = [r for r in runs if kind[r.info.run_id] == "selection"]
    assert sorted(r.data.params["selector"] for r in selections) == ["kcenter", "mig", "random"]
    for run in selections:
        assert run.data.tags["mlflow.parentRunId"] == study_run.info.run_id
        assert "diversity.novelsum" in run.data.metrics and run.inputs.dataset_inputs
    fine_tunes = [r for r in runs if kind[r.info.run_id] == "fine-tune"]
    assert sorted(r.data.params["selector"] for r in fine_tunes) == ["mig", "random"]
    for run in fine_tunes:
        assert kind[run.data.tags["mlflow.parentRunId"]] == "selection"
        assert run.data.params["budget"] == "8" and run.data.tags.get("dagster.run_id")
        metrics = run.data.metrics
        assert {"train_loss_final", "avg_obj", "diversity.novelsum"} <= set(metrics)
        assert any(k.startswith("bench.") for k in metrics) and 0.0 <= metrics["avg_obj"] <= 100.0
        artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
        assert {"recipe", "selection", "opencompass", "judgements"} <= artifacts
        assert {"avg_sub", "avg", "bench.alpacaeval_v2", "bench.mtbench.stderr", "parse_rate.mtbench"} <= set(metrics)
        assert run.data.params["judge"] == "embedded:SmolLM2-135M-Instruct/probability"
    (baseline,) = [r for r in runs if kind[r.info.run_id] == "baseline"]
    assert {"avg_obj", "avg_sub", "avg"} <= set(baseline.data.metrics)
    (pool_row,) = [r for r in runs if kind[r.info.run_id] == "pool-row"]  # every pool row, real trainer and CLIs
    assert pool_row.data.params["budget"] == "36" and kind[pool_row.data.tags["mlflow.parentRunId"]] == "study"
    assert {"train_loss_final", "avg_obj", "avg_sub", "avg"} <= set(pool_row.data.metrics)
    (report,) = [r for r in runs if kind[r.info.run_id] == "correlation-report"]
    assert report.data.tags["mlflow.parentRunId"] == study_run.info.run_id
    assert "plots/overview.png" in {a.path for a in client.list_artifacts(report.info.run_id, "plots")}


def test_fine_tuned_weights_differ_from_the_base_model(loop_run: dict) -> None:
    from safetensors.torch import load_file

    models = loop_run["study"] / "models"
    base = load_file(next((models / "base" / MODEL).glob("*/*.safetensors")))
    tuned = load_file(next((models / "fine_tuned" / f"mig__b8__{MODEL}").glob("*/*.safetensors")))
    shared = sorted(set(base) & set(tuned))
    assert shared, "no common tensors between base and fine-tuned checkpoints"
    assert any(not base[name].float().equal(tuned[name].float()) for name in shared)


def test_report_says_why_it_computed_no_correlation_with_two_points(loop_run: dict) -> None:
    import json

    report = json.loads((loop_run["study"] / "reports" / "report.json").read_text())
    assert report["points"] == 2
    assert "at least 3" in report["message"] and report["correlations"] == {}
    # the untuned base model and the Pool row are rows of the report (not points), with both halves and their noise
    runs = {row["run"]: row for row in report["scores"]}
    assert set(runs) == {f"baseline__{MODEL}", f"pool__{MODEL}", f"mig__b8__{MODEL}", f"random__b8__{MODEL}"}
    assert all(row["avg"] is not None and row["avg_sub.stderr"] is not None for row in runs.values())


def test_every_evaluated_model_answers_the_same_questions_and_the_report_pairs_them(loop_run: dict) -> None:
    import pandas as pd

    reports = loop_run["study"] / "reports"
    questions = pd.read_csv(reports / "questions.csv", dtype={"question": str})
    runs = {f"baseline__{MODEL}", f"pool__{MODEL}", f"mig__b8__{MODEL}", f"random__b8__{MODEL}"}
    assert set(questions["run"]) == runs
    # OpenCompass's per-sample outputs (ARC 0/1), the likelihood channel and the judge's comparisons, per question
    for benchmark in ("arc_c", "ref_bpb_alpaca", "alpacaeval_v2", "mtbench"):
        asked = questions[questions["benchmark"] == benchmark].groupby("run")["question"].apply(frozenset)
        assert set(asked.index) == runs and len(set(asked)) == 1, benchmark  # the same questions for every model
    assert questions.loc[questions["benchmark"] == "arc_c", "score"].isin([0.0, 1.0]).all()
    assert (questions.loc[questions["benchmark"] == "ref_bpb_alpaca", "score"] > 0).all()
    pairs = pd.read_csv(reports / "pairs.csv")
    assert set(pairs.columns[:10]) == {"a", "b", "benchmark", "diff", "ci_low", "ci_high", "p_value", "p_holm",
                                       "verdict", "mde"}
    assert len(pairs[pairs["benchmark"] == "ref_bpb_alpaca"]) == len(runs) * (len(runs) - 1) // 2
