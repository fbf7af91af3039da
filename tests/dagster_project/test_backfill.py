"""A backfill of the grid through the real instance and Dagster's own CLI (``dagster job backfill``): a 2 x 2
selection matrix with training and evaluation of each cell, all runs launched at once, completes, and the
accelerator pool (limit 1, from the dagster.yaml the project writes) never lets two training/evaluation steps
overlap. The trainer and evaluator are fakes at the resource seam (``backfill_defs.py``)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from studykit import Study

from selection_ops.foundation.paths import REPO_ROOT

pytestmark = pytest.mark.slow

GRID = """
study: alpha
seed: 0
pool: {limit_per_source: 5}
selectors: [random, kcenter]
train: [random]
budgets: [3, 4]
base_models: {tiny: /fake/base-model}
"""


def test_a_backfill_of_the_grid_completes_within_the_pool_limit(home: Path) -> None:
    from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus, EventRecordsFilter

    from dagster_project.dagster_internals import IMMEDIATE_RUN_COORDINATOR
    from dagster_project.jobs import JOB_BASE_MODELS

    study = Study(home, body=GRID)
    with study.instance() as instance:  # writes dagster.yaml with the accelerator pool at 1 slot
        # the unpartitioned base model first, as the main job (or the UI's prepare_base_models job) does
        assert study.definitions().resolve_job_def(JOB_BASE_MODELS).execute_in_process(instance=instance).success
    config_path = study.layout.dagster_home() / "dagster.yaml"
    config = yaml.safe_load(config_path.read_text())
    assert config["concurrency"]["pools"]["default_limit"] == 1
    # launch each run as soon as it is submitted (no daemon); the pool alone must keep the steps apart
    config["run_coordinator"] = dict(IMMEDIATE_RUN_COORDINATOR)
    config_path.write_text(yaml.safe_dump(config))
    env = {**os.environ, "DAGSTER_HOME": str(study.layout.dagster_home()), "INFOSIFT_HOME": str(home),
           "INFOSIFT_GRID": str(study.grid_path), "TQDM_DISABLE": "1"}
    partitions = "b3|random,b3|kcenter,b4|random,b4|kcenter"
    proc = subprocess.run([str(Path(sys.executable).with_name("dagster")), "job", "backfill", "-f",
                           str(Path(__file__).with_name("backfill_defs.py")), "-d", str(REPO_ROOT), "-j",
                           "study_grid", "--partitions", partitions, "--noprompt"],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]

    with DagsterInstance.from_config(str(study.layout.dagster_home())) as instance:
        deadline = time.monotonic() + 900
        while True:
            runs = [r for r in instance.get_runs() if r.job_name == "study_grid"]
            if len(runs) == 4 and all(r.is_finished for r in runs) or time.monotonic() > deadline:
                break
            time.sleep(3)
        assert len(runs) == 4 and {r.status for r in runs} == {DagsterRunStatus.SUCCESS}, \
            [(r.tags.get("dagster/partition"), r.status) for r in runs]
        assert {r.tags["infosift/study"] for r in runs} == {"alpha"}
        intervals: dict[tuple[str, str], list[float]] = {}
        for event_type in (DagsterEventType.STEP_START, DagsterEventType.STEP_SUCCESS):
            for record in instance.get_event_records(EventRecordsFilter(event_type=event_type), limit=1000):
                entry = record.event_log_entry
                if any(stage in (entry.step_key or "") for stage in ("fine_tuned_model", "benchmark_scores")):
                    intervals.setdefault((entry.run_id, entry.step_key), []).append(entry.timestamp)
        spans = sorted((min(t), max(t)) for t in intervals.values())
        assert len(spans) == 8  # 4 partitions x (training, evaluation)
        for (_, end), (next_start, _) in zip(spans, spans[1:]):
            assert next_start >= end, f"two accelerator steps overlapped: {spans}"
        assert len(instance.get_materialized_partitions(study.definitions().resolve_asset_graph()
                                                        .get(_key("tiny", "benchmark_scores")).key)) == 4


def _key(*path: str):
    from dagster import AssetKey

    return AssetKey(list(path))
