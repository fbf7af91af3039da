"""Fault injection through the real main job (``INFOSIFT_ENV=small``): one undisturbed study, and the same study
SIGKILLed at five points (annotation, a selection, the baseline's OpenCompass run, its judge, a fine-tune) and
resumed each time by running the same command again. The resumed study ends with the same selections and scores,
no process of a killed job outlives it, no MLflow run is left RUNNING, no Dagster run is left unfinished and no
step waits on a dead run's slot. Kill points are found by watching the study's log (Dagster's STEP_START lines) and
the main job's process tree (``llamafactory-cli``, ``opencompass``); each is recorded with what it hit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from selection_ops.foundation.child_guard import descendants
from selection_ops.foundation.paths import REPO_ROOT
from selection_ops.foundation.processes import pid_alive

pytestmark = [pytest.mark.e2e, pytest.mark.slow,
              pytest.mark.skipif(not Path("/proc").is_dir(), reason="watches the process tree in /proc")]

GRID = """
study: faultinj
seed: 0
pool:
  limit_per_source: 8
selectors: [mig, random]
train: [random]
budgets: [8]
base_models:
  smollm2-135m: embedded
"""
STUDY = "faultinj"


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


class MainJob:
    """One run of the main job, its terminal lines collected, its study log and process tree watchable."""

    def __init__(self, env: dict, log: Path) -> None:
        self.log, self.log_start = log, log.stat().st_size if log.is_file() else 0
        self.launched = time.time()
        self.proc = subprocess.Popen([sys.executable, "-m", "dagster_project.run_loop"], cwd=REPO_ROOT, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self.reader = threading.Thread(target=lambda: self.lines.extend(self.proc.stdout), daemon=True)
        self.reader.start()

    def new_log(self) -> str:
        if not self.log.is_file():
            return ""
        with open(self.log, errors="replace") as handle:
            handle.seek(self.log_start)
            return handle.read()

    def step_started(self, step: str) -> bool:
        return f'Started execution of step "{step}"' in self.new_log()

    def first_step_start(self) -> float | None:
        """Seconds from launch to the first step this run executes (the observation of the grid excepted), from
        the log line's time stamp (whole seconds)."""
        from datetime import datetime

        for line in self.new_log().splitlines():
            if "STEP_START" in line and "selection_spec" not in line:
                stamp = datetime.strptime(line[:25], "%Y-%m-%d %H:%M:%S %z").timestamp()
                return round(stamp - self.launched, 1)
        return None

    def tree(self) -> list[int]:
        return descendants(self.proc.pid)

    def child_running(self, *words: str) -> bool:
        return any(all(w in _cmdline(pid) for w in words) for pid in self.tree())

    def alive(self) -> bool:
        return self.proc.poll() is None


def _wait(predicate, job: MainJob, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate(job):
            return
        if not job.alive():
            pytest.fail(f"the main job ended before {what}:\n{''.join(job.lines)[-3000:]}")
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def _env(home: Path, data_dir: Path) -> dict:
    grid = home / "grid.yaml"
    grid.write_text(GRID)
    env = {**os.environ, "INFOSIFT_HOME": str(home), "INFOSIFT_DATA_DIR": str(data_dir), "INFOSIFT_ENV": "small",
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "INFOSIFT_GRID": str(grid)}
    for name in ("DAGSTER_HOME", "MLFLOW_TRACKING_URI"):
        env.pop(name, None)
    return env


def _finish(job: MainJob, timeout_s: float = 2400) -> str:
    assert job.proc.wait(timeout=timeout_s) == 0, "".join(job.lines)[-4000:]
    job.reader.join(10)
    return "".join(job.lines)


def _outcome(home: Path) -> dict:
    """What the study ended with: the selections (ids digest -> ids) and every score of every evaluated row."""
    from dagster import AssetRecordsFilter, DagsterInstance

    study = home / "studies" / STUDY
    selections = {str(p.relative_to(study / "selections")): p.read_text()
                  for p in sorted((study / "selections").rglob("*.jsonl"))}
    scores = {}
    with DagsterInstance.from_config(str(study / "dagster")) as instance:
        for key in instance.get_asset_keys():
            if not key.path[-1].endswith(("benchmark_scores", "preference_scores", "baseline_scores")):
                continue
            partitions = sorted(instance.get_materialized_partitions(key)) or [None]
            for partition in partitions:
                records = instance.fetch_materializations(AssetRecordsFilter(
                    asset_key=key, asset_partitions=None if partition is None else [partition]), limit=1).records
                metadata = records[0].asset_materialization.metadata
                values = {k: getattr(v, "value", v) for k, v in metadata.items()
                          if k.endswith(("/score", "avg_obj", "avg_sub")) or k == "avg"}
                scores[f"{key.to_user_string()}[{partition}]"] = {
                    k: round(float(v), 6) for k, v in values.items() if isinstance(v, (int, float))}
    return {"selections": selections, "scores": scores}


def _no_loose_ends(home: Path) -> None:
    from dagster import DagsterInstance, DagsterRunStatus, RunsFilter
    from mlflow.tracking import MlflowClient

    study = home / "studies" / STUDY
    with DagsterInstance.from_config(str(study / "dagster")) as instance:
        unfinished = instance.get_runs(filters=RunsFilter(statuses=[
            DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING, DagsterRunStatus.STARTED]))
        assert unfinished == [], [r.run_id for r in unfinished]
        storage = instance.event_log_storage
        assert storage.get_concurrency_info("accelerator").claimed_slots == []
    client = MlflowClient(tracking_uri=f"sqlite:///{home / 'mlflow.db'}")
    experiment = client.get_experiment_by_name(STUDY)
    running = client.search_runs([experiment.experiment_id], filter_string="attributes.status = 'RUNNING'")
    assert running == [], [r.info.run_name for r in running]


# (name, what to wait for once the job runs, seconds to let it work before the kill)
KILL_POINTS = [
    ("annotation", lambda job: job.step_started("annotations"), 1.0),
    ("selection", lambda job: job.step_started("selection"), 0.0),
    ("opencompass", lambda job: job.child_running("opencompass", "eval_config.py"), 4.0),
    ("judge", lambda job: job.child_running("opencompass", "preference_config.py"), 6.0),
    ("fine-tune", lambda job: job.child_running("llamafactory-cli", "train"), 5.0),
]


def test_a_study_killed_at_five_points_resumes_to_the_same_results(tmp_path: Path, data_dir: Path) -> None:
    undisturbed_home = tmp_path / "undisturbed"
    undisturbed_home.mkdir()
    env = _env(undisturbed_home, data_dir)
    log = undisturbed_home / "studies" / STUDY / "logs" / "run_loop.log"
    start = time.monotonic()
    _finish(MainJob(env, log))
    undisturbed_s = time.monotonic() - start
    expected = _outcome(undisturbed_home)
    assert expected["selections"] and expected["scores"]

    home = tmp_path / "disturbed"
    home.mkdir()
    env = _env(home, data_dir)
    log = home / "studies" / STUDY / "logs" / "run_loop.log"
    record = []
    start = time.monotonic()
    for name, ready, work_s in KILL_POINTS:
        job = MainJob(env, log)
        _wait(ready, job, 1200, f"the {name} kill point")
        time.sleep(work_s)
        first = job.first_step_start()
        ours = job.tree()
        job.proc.kill()  # SIGKILL: what an out-of-memory kill or a lost machine does
        job.proc.wait()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(pid_alive(pid) for pid in ours):
            time.sleep(0.2)
        survivors = {pid: _cmdline(pid) for pid in ours if pid_alive(pid)}
        assert survivors == {}, f"kill at {name}: processes outlived the main job: {survivors}"
        job.reader.join(5)
        record.append({"point": name, "children_at_kill": len(ours), "resume_to_first_step_s": first,
                       "printed": [line.rstrip() for line in job.lines if line.startswith("resume")]})
    last = MainJob(env, log)
    out = _finish(last)
    disturbed_s = time.monotonic() - start
    record.append({"point": "final", "resume_to_first_step_s": last.first_step_start(),
                   "printed": [line.rstrip() for line in last.lines if line.startswith("resume")]})

    assert "for pool" not in out, out  # no step waited on a dead run's slot
    assert any(r["printed"] for r in record[1:]), record  # a resume said what it failed and freed
    _no_loose_ends(home)
    assert _outcome(home) == expected
    summary = {"undisturbed_s": round(undisturbed_s), "disturbed_with_5_kills_s": round(disturbed_s),
               "kills": record}
    (tmp_path / "fault_injection.json").write_text(json.dumps(summary, indent=1))
    print(json.dumps(summary, indent=1))
