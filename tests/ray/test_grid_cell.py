"""Grid cells through the chosen Dagster-Ray path: dagster-ray's executor submits the selection step, then a
fine-tune step of the embedded default's model, as Ray jobs to the local runtime's Jobs API, where they run with the
resources their op tags ask for."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

from selection_ops.foundation.paths import REPO_ROOT

pytestmark = pytest.mark.ray

GRID = """
study: ray-cell
seed: 0
pool:
  limit_per_source: 8
selectors: [kcenter]
train_selectors: [kcenter]
budgets: [6]
base_models:
  smollm2-135m: embedded
"""


@pytest.mark.slow
def test_selection_and_fine_tune_cells_run_as_ray_jobs(ray_runtime: dict, data_dir: Path, tmp_path: Path,
                                                       monkeypatch) -> None:
    from dagster import AssetKey, DagsterInstance, build_reconstructable_job, execute_job, materialize
    from ray.job_submission import JobStatus, JobSubmissionClient

    from dagster_project.definitions import all_assets, study_resources
    from resources.ray_cluster import RayCluster
    from selection_ops.study.grid import load_grid

    home = tmp_path / "home"
    (home / "dagster").mkdir(parents=True)
    (home / "dagster" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    (home / "grid.yaml").write_text(GRID)
    for name, value in {"INFOSIFT_HOME": str(home), "INFOSIFT_GRID": str(home / "grid.yaml"),
                        "INFOSIFT_DATA_DIR": str(data_dir), "DAGSTER_HOME": str(home / "dagster")}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("INFOSIFT_RAY_ADDRESS", raising=False)
    monkeypatch.setenv("INFOSIFT_ENV", "small")  # two training steps (the resource set, not an env hook)
    grid = load_grid()
    study = home / "studies" / "ray-cell"
    with DagsterInstance.get() as instance:
        upstream = materialize(all_assets(grid), selection=["pool", "annotations", "label_graph"], instance=instance,
                               resources={**study_resources(grid), "ray_cluster": RayCluster(ray_address="")})
        assert upstream.success

        monkeypatch.setenv("INFOSIFT_RAY_ADDRESS", ray_runtime["gcs_address"])
        monkeypatch.setenv("INFOSIFT_RAY_JOBS_ADDRESS", ray_runtime["dashboard_url"])
        # the step's `dagster` command: the venv's, as a cluster node with the project installed would have on PATH
        monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}:{os.environ['PATH']}")
        monkeypatch.setenv("INFOSIFT_RAY_FORWARD_ENV", "PATH,PYTHONPATH,DAGSTER_HOME")
        job = build_reconstructable_job("dagster_project.ray_execution", "ray_job",
                                        reconstructable_args=("select_grid",),
                                        reconstructor_working_directory=str(REPO_ROOT))
        with execute_job(job, instance=instance, tags={"dagster/partition": "b6|kcenter"}) as result:
            assert result.success
            messages = [e.message or "" for e in result.all_events]
        assert any("in Ray job dagster-step-" in m for m in messages), messages[:20]
        assert instance.get_materialized_partitions(AssetKey("selection")) == {"b6|kcenter"}

    client = JobSubmissionClient(ray_runtime["dashboard_url"])
    steps = [j for j in client.list_jobs() if (j.metadata or {}).get("dagster/op") == "selection"]
    assert len(steps) == 1
    deadline = time.monotonic() + 60
    while not client.get_job_status(steps[0].submission_id).is_terminal() and time.monotonic() < deadline:
        time.sleep(0.5)  # the step has reported success; its process is still exiting
    assert client.get_job_status(steps[0].submission_id) == JobStatus.SUCCEEDED
    ids_file = next((study / "selections" / "kcenter__b6").glob("*.jsonl"))
    picked = [json.loads(line)["id"] for line in ids_file.read_text().splitlines()]
    assert len(picked) == len(set(picked)) == 6

    # A fine-tune cell of the embedded default's model through the same executor (2 steps; no GPU on this cluster,
    # so the cell asks for 1 CPU instead of its default GPU).
    monkeypatch.setenv("INFOSIFT_CELL_RESOURCES", '{"fine_tune": {"num_gpus": 0, "num_cpus": 1}}')
    with DagsterInstance.get() as instance:
        monkeypatch.delenv("INFOSIFT_RAY_ADDRESS")
        assert materialize(all_assets(grid), selection=[AssetKey(["smollm2-135m", "base_model"])],
                           instance=instance, resources=study_resources(grid)).success
        monkeypatch.setenv("INFOSIFT_RAY_ADDRESS", ray_runtime["gcs_address"])
        job = build_reconstructable_job("dagster_project.ray_execution", "ray_job",
                                        reconstructable_args=("train_and_evaluate",),
                                        reconstructor_working_directory=str(REPO_ROOT))
        with execute_job(job, instance=instance, tags={"dagster/partition": "b6|kcenter"},
                         asset_selection=[AssetKey(["smollm2-135m", "fine_tuned_model"])]) as result:
            assert result.success
            messages = [e.message or "" for e in result.all_events]
        assert any("in Ray job dagster-step-" in m for m in messages), messages[:20]
        event = instance.get_latest_materialization_event(AssetKey(["smollm2-135m", "fine_tuned_model"]))
        assert event.dagster_event.partition == "b6|kcenter"
    trained = next((study / "models" / "fine_tuned" / "kcenter__b6__smollm2-135m").iterdir())
    assert (trained / "config.json").is_file() and (trained / "infosift" / "recipe.yaml").is_file()
