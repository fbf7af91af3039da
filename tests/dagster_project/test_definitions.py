"""The Dagster definitions load, validate with Dagster's own CLI, and form one direction: pool -> report."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dagster_project.paths import REPO_ROOT

STAGE_ORDER = ["pool", "annotations", "label_graph", "selection", "base_model", "baseline_scores",
               "fine_tuned_model", "benchmark_scores", "preference_scores", "diversity_correlation"]


@pytest.fixture(scope="module")
def defs():
    from dagster_project.definitions import build_definitions

    return build_definitions()


def test_dagster_cli_validates_the_workspace(tmp_path: Path) -> None:
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path), "INFOSIFT_HOME": str(tmp_path / "state")}
    dagster = Path(sys.executable).with_name("dagster")
    proc = subprocess.run([str(dagster), "definitions", "validate", "-w", str(REPO_ROOT / "workspace.yaml")],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    assert "Validation successful" in proc.stdout + proc.stderr


def test_asset_graph_runs_one_way_from_pool_to_report(defs) -> None:
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert set(STAGE_ORDER) <= keys
    position = {name: i for i, name in enumerate(STAGE_ORDER)}
    for key in graph.get_all_asset_keys():
        name = key.to_user_string()
        for parent in graph.get(key).parent_keys:
            assert position[parent.to_user_string()] < position[name], f"{parent} -> {name} runs backwards"


def test_every_registered_selector_has_a_selection_partition(defs) -> None:
    from dagster import AssetKey

    from selection_ops.registry import selector_names

    graph = defs.resolve_asset_graph()
    keys = graph.get(AssetKey("selection")).partitions_def.get_partition_keys()
    assert {key.split("__")[0] for key in keys} == set(selector_names())


def test_jobs_cover_preparation_selection_training_and_report(defs) -> None:
    names = {job.name for job in defs.resolve_all_job_defs()}
    assert {"prepare_pool", "select_grid", "prepare_base_models", "train_and_evaluate", "report"} <= names
