"""The whole loop at its smallest settings, through the real main job (subprocess, real Dagster instance,
real LLaMA-Factory and OpenCompass CLIs, real MLflow SQLite store)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dagster_project.paths import REPO_ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

GRID = """
study: e2e
seed: 0
pool:
  limit_per_source: 12
selectors: [mig, random, kcenter]
train_selectors: [mig, random]
budgets: [8]
base_models:
  smollm2-135m: embedded
"""


@pytest.fixture(scope="module")
def loop_run(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> dict:
    home = tmp_path_factory.mktemp("infosift_home")
    grid = home / "grid.yaml"
    grid.write_text(GRID)
    env = {**os.environ, "INFOSIFT_HOME": str(home), "INFOSIFT_DATA_DIR": str(data_dir),
           "INFOSIFT_EVAL_SAMPLE_LIMIT": "2", "INFOSIFT_TRAIN_MAX_STEPS": "2",
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    env.pop("DAGSTER_HOME", None)
    env.pop("MLFLOW_TRACKING_URI", None)
    proc = subprocess.run([sys.executable, "-m", "dagster_project.run_loop", "--grid", str(grid)], cwd=REPO_ROOT,
                          env=env, capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-6000:]
    return {"home": home, "stdout": proc.stdout}


def test_main_job_prints_how_to_open_both_uis(loop_run: dict) -> None:
    assert "dagster dev -w" in loop_run["stdout"]
    assert f"mlflow ui --backend-store-uri sqlite:///{loop_run['home'] / 'mlflow.db'}" in loop_run["stdout"]


def test_every_stage_is_materialized_in_the_real_instance(loop_run: dict) -> None:
    from dagster import AssetKey, DagsterInstance

    with DagsterInstance.from_config(str(loop_run["home"] / "dagster")) as instance:
        for asset in ("pool", "annotations", "label_graph", "diversity_correlation"):
            assert instance.get_latest_materialization_event(AssetKey(asset)) is not None, asset
        assert instance.get_materialized_partitions(AssetKey("selection")) == {"mig__b8", "random__b8", "kcenter__b8"}
        trained = {"mig__b8__smollm2-135m", "random__b8__smollm2-135m"}
        assert instance.get_materialized_partitions(AssetKey("fine_tuned_model")) == trained
        assert instance.get_materialized_partitions(AssetKey("benchmark_scores")) == trained
        assert instance.get_materialized_partitions(AssetKey("preference_scores")) == trained
        assert instance.get_materialized_partitions(AssetKey("baseline_scores")) == {"smollm2-135m"}


def test_mlflow_holds_one_complete_run_per_trained_selection(loop_run: dict) -> None:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{loop_run['home'] / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("e2e")
    runs = client.search_runs([experiment.experiment_id], filter_string="tags.`infosift.kind` = 'fine-tune'")
    assert sorted(r.data.params["selector"] for r in runs) == ["mig", "random"]
    for run in runs:
        assert run.data.params["budget"] == "8" and run.data.tags.get("dagster.run_id")
        metrics = run.data.metrics
        assert "train_loss_final" in metrics and "avg_obj" in metrics
        assert any(k.startswith("bench.") for k in metrics)
        assert "diversity.novelsum" in metrics
        assert 0.0 <= metrics["avg_obj"] <= 100.0
        artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
        assert {"recipe", "selection", "opencompass", "judgements"} <= artifacts
        assert {"avg_sub", "avg", "bench.alpacaeval_v2", "bench.mtbench.stderr", "parse_rate.mtbench"} <= set(metrics)
        assert run.data.params["judge"] == "embedded:SmolLM2-135M-Instruct/probability"
    report = client.search_runs([experiment.experiment_id],
                                filter_string="tags.`infosift.kind` = 'correlation-report'")
    assert len(report) == 1


def test_fine_tuned_weights_differ_from_the_base_model(loop_run: dict) -> None:
    from safetensors.torch import load_file

    base_dir = loop_run["home"] / "models" / "base" / "smollm2-135m"
    tuned_dir = loop_run["home"] / "models" / "fine_tuned" / "mig__b8__smollm2-135m"
    base = load_file(next(base_dir.glob("*.safetensors")))
    tuned = load_file(next(tuned_dir.glob("*.safetensors")))
    shared = sorted(set(base) & set(tuned))
    assert shared, "no common tensors between base and fine-tuned checkpoints"
    assert any(not base[name].float().equal(tuned[name].float()) for name in shared)


def test_report_says_why_it_computed_no_correlation_with_two_points(loop_run: dict) -> None:
    import json

    report = json.loads((loop_run["home"] / "reports" / "e2e" / "report.json").read_text())
    assert report["points"] == 2
    assert "at least 3" in report["message"] and report["correlations"] == {}
    # the untuned base model is a row of the report, with both halves and their noise
    runs = {row["run"]: row for row in report["scores"]}
    assert set(runs) == {"baseline__smollm2-135m", "mig__b8__smollm2-135m", "random__b8__smollm2-135m"}
    assert all(row["avg"] is not None and row["avg_sub.stderr"] is not None for row in runs.values())
