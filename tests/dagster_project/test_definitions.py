"""The Dagster definitions load, validate with Dagster's own CLI, form one direction (pool -> report), show the
study they loaded, and put training and evaluation in the accelerator pool."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from selection_ops.foundation.paths import REPO_ROOT

STAGE_ORDER = ["pool", "annotations", "label_graph", "selection_spec", "selection", "base_model", "baseline_scores",
               "fine_tuned_model", "benchmark_scores", "preference_scores", "diversity_correlation"]


@pytest.fixture(scope="module")
def defs(tmp_path_factory: pytest.TempPathFactory):
    from dagster_project.definitions import build_definitions

    return build_definitions(home=str(tmp_path_factory.mktemp("home")))


def test_dagster_cli_validates_the_workspace(tmp_path: Path) -> None:
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path), "INFOSIFT_HOME": str(tmp_path / "state")}
    env.pop("INFOSIFT_GRID", None)
    dagster = Path(sys.executable).with_name("dagster")
    proc = subprocess.run([str(dagster), "definitions", "validate", "-w", str(REPO_ROOT / "workspace.yaml")],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    assert "Validation successful" in proc.stdout + proc.stderr


def test_asset_graph_runs_one_way_from_pool_to_report(defs) -> None:
    graph = defs.resolve_asset_graph()
    keys = {key.path[-1] for key in graph.get_all_asset_keys()}
    assert set(STAGE_ORDER) <= keys
    position = {name: i for i, name in enumerate(STAGE_ORDER)}
    for key in graph.get_all_asset_keys():
        for parent in graph.get(key).parent_keys:
            assert position[parent.path[-1]] < position[key.path[-1]], f"{parent} -> {key} runs backwards"


def test_every_selection_of_the_grid_is_trainable_on_every_base_model(defs) -> None:
    from dagster import AssetKey

    from selection_ops.study.grid import load_grid

    grid = load_grid()
    graph = defs.resolve_asset_graph()
    selection = graph.get(AssetKey("selection")).partitions_def
    for model in grid.base_models:
        for stage in ("fine_tuned_model", "benchmark_scores"):
            node = graph.get(AssetKey([model, stage]))
            assert node.partitions_def == selection and len(selection.get_partition_keys()) == len(grid.variants)
            assert defs.resolve_assets_def(AssetKey([model, stage])).op.pool == "accelerator"
            assert node.code_version and node.automation_condition is not None


def test_the_ui_shows_the_study_and_grid_it_loaded(defs) -> None:
    from selection_ops.study.grid import grid_path

    assert defs.metadata["study"].value == "embedded-default"
    assert defs.metadata["grid_file"].value == str(grid_path())
    jobs = {job.name: job for job in defs.resolve_all_job_defs()}
    assert {"prepare_pool", "study_grid", "select_grid", "prepare_base_models", "train_and_evaluate",
            "report"} <= set(jobs)
    assert jobs["study_grid"].tags["infosift/study"] == "embedded-default"
    assert str(grid_path()) in jobs["study_grid"].description


def test_resource_sets_are_chosen_by_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from dagster_project.definitions import study_resources
    from selection_ops.study.grid import load_grid

    grid = load_grid()
    small = study_resources(grid, env="small", home=str(tmp_path))
    assert small["trainer"].resolved_overrides() == {"max_steps": 2}
    assert small["evaluator"].resolved_sample_limit() == 2 and small["evaluator"].resolved_sample_limits() == {}
    default = study_resources(grid, env="default", home=str(tmp_path))
    assert default["trainer"].resolved_overrides() == {} and default["evaluator"].resolved_sample_limits()
    assert default["layout"].root == tmp_path / "studies" / "embedded-default"
    monkeypatch.setenv("INFOSIFT_ENV", "nope")
    with pytest.raises(ValueError, match=r"\$INFOSIFT_ENV=nope: unknown profile 'nope'"):
        study_resources(grid, home=str(tmp_path))


def test_the_instance_config_sets_the_accelerator_pool_limit(tmp_path: Path, monkeypatch) -> None:
    import yaml

    from dagster_project.instance import accelerator_slots, write_instance_config

    monkeypatch.setenv("INFOSIFT_ACCELERATOR_SLOTS", "3")
    assert accelerator_slots() == 3
    config = yaml.safe_load(write_instance_config(tmp_path).read_text())
    assert config["concurrency"]["pools"]["default_limit"] == 3
    monkeypatch.setenv("INFOSIFT_ACCELERATOR_SLOTS", "0")
    with pytest.raises(ValueError, match="positive"):
        accelerator_slots()


def test_the_run_queue_admits_the_accelerator_slots_plus_cheap_runs(tmp_path: Path, defs) -> None:
    """The written dagster.yaml loads as a real instance whose queue (what the daemon dequeues by) holds
    slots + 2 runs, at most ``slots`` of them tagged as accelerator work; the jobs that train carry that tag."""
    from dagster import DagsterInstance

    from assets.constants import ACCELERATOR_RUN_TAG, JOB_SELECT, JOB_STUDY_GRID
    from dagster_project.instance import CHEAP_RUNS, write_instance_config
    from dagster_project.jobs import JOB_TRAIN

    write_instance_config(tmp_path, slots=3)
    instance = DagsterInstance.from_config(str(tmp_path))
    try:
        queue = instance.get_concurrency_config().run_queue_config
        assert queue.max_concurrent_runs == 3 + CHEAP_RUNS == 5
        assert queue.tag_concurrency_limits == [{"key": ACCELERATOR_RUN_TAG, "value": "true", "limit": 3}]
        assert instance.get_concurrency_config().pool_config.default_pool_limit == 3
    finally:
        instance.dispose()
    for job in (JOB_STUDY_GRID, JOB_TRAIN):
        assert defs.resolve_job_def(job).tags[ACCELERATOR_RUN_TAG] == "true"
    assert ACCELERATOR_RUN_TAG not in defs.resolve_job_def(JOB_SELECT).tags


def test_the_study_workspace_names_its_code_location_after_the_study_and_grid(tmp_path: Path) -> None:
    """The workspace the main job writes beside the study's dagster.yaml loads with Dagster's own CLI from another
    folder, as a code location named after the study and its grid file."""
    import os
    import subprocess
    import sys

    import yaml

    from dagster_project.instance import location_name, write_workspace
    from selection_ops.study.grid import DEFAULT_GRID

    path = write_workspace(tmp_path, "my-study", Path(DEFAULT_GRID))
    (entry,) = yaml.safe_load(path.read_text())["load_from"]
    assert entry["python_module"]["location_name"] == location_name("my-study", Path(DEFAULT_GRID)) \
        == "infosift:my-study:embedded_default.yaml"
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path), "INFOSIFT_HOME": str(tmp_path / "home")}
    proc = subprocess.run([str(Path(sys.executable).parent / "dagster"), "definitions", "validate", "-w", str(path)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "infosift:my-study:embedded_default.yaml" in proc.stdout + proc.stderr
