"""Faults of the main job, with real things: a real DagsterInstance (the study's dagster.yaml, its accelerator pool)
whose run holds the pool's slot in a process that is then SIGKILLed, a real MLflow SQLite store, the real main job
as a subprocess against a closed port and a held study lock."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from selection_ops.foundation.paths import REPO_ROOT

POOL = "accelerator"
# a run of a one-op job whose op holds the accelerator pool's slot until killed (tagged like a main job's run, or,
# as a UI-launched run, known only by the pid on its events)
HOLDER = """
import sys, time
from dagster import DagsterInstance, job, op
from selection_ops.foundation.processes import ProcessIdentity

@op(pool="accelerator")
def fine_tune():
    time.sleep(300)

@job
def study_grid():
    fine_tune()

tags = {"infosift/main_job": ProcessIdentity.current().to_tag()} if sys.argv[2] == "tagged" else {}
with DagsterInstance.from_config(sys.argv[1]) as instance:
    study_grid.execute_in_process(instance=instance, tags=tags)
"""


def _wait_for(predicate, timeout_s: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@pytest.fixture()
def instance_dir(tmp_path: Path) -> Path:
    from dagster_project.instance import write_instance_config

    folder = tmp_path / "dagster"
    folder.mkdir()
    write_instance_config(folder, slots=1)
    return folder


def _start_holder(instance_dir: Path, mode: str) -> subprocess.Popen:
    from dagster import DagsterInstance

    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(instance_dir), mode], cwd=REPO_ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with DagsterInstance.from_config(str(instance_dir)) as instance:
        claimed = _wait_for(lambda: instance.event_log_storage.get_concurrency_info(POOL).claimed_slots, 120)
    if not claimed:
        proc.kill()
        pytest.fail("the holder run never claimed the pool's slot")
    return proc


@pytest.mark.parametrize("mode", ["tagged", "launched"])
def test_a_dead_runs_slot_is_freed_and_the_run_marked_failed(instance_dir: Path, mode: str) -> None:
    from dagster import DagsterInstance, DagsterRunStatus

    from dagster_project.recovery import fail_dead_runs

    holder = _start_holder(instance_dir, mode)
    with DagsterInstance.from_config(str(instance_dir)) as instance:
        try:
            assert fail_dead_runs(instance) == []  # a live run is left alone
            (run,) = instance.get_runs()
            assert run.status == DagsterRunStatus.STARTED
        finally:
            holder.kill()
            holder.wait()
        assert instance.event_log_storage.get_concurrency_info(POOL).claimed_slots  # the dead run still holds it
        dead = fail_dead_runs(instance)
        assert [r.run_id for r, _ in dead] == [run.run_id] and f"process {holder.pid} " in dead[0][1]
        assert instance.get_run_by_id(run.run_id).status == DagsterRunStatus.FAILURE
        assert instance.event_log_storage.get_concurrency_info(POOL).claimed_slots == []
        assert fail_dead_runs(instance) == []


def test_a_step_waits_for_a_full_pool_asleep_says_who_holds_it_and_goes_on_when_the_holder_dies(
        instance_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dagster import DagsterInstance

    from dagster_project import recovery

    monkeypatch.setattr(recovery, "POLL_S", 0.5)
    holder = _start_holder(instance_dir, "tagged")
    said: list[str] = []
    try:
        with DagsterInstance.from_config(str(instance_dir)) as instance:
            waiter = threading.Thread(target=recovery.wait_for_pool, args=(instance, POOL, said.append, "cell"))
            cpu = time.process_time()
            waiter.start()
            time.sleep(4)
            assert waiter.is_alive() and len(said) == 1
            assert f"waiting 0 min for pool '{POOL}' (1 slot), held by: run " in said[0]
            assert "study_grid, step fine_tune, main job " in said[0] and " since " in said[0]
            assert time.process_time() - cpu < 2.0, "the wait spins a core"
            os.kill(holder.pid, signal.SIGKILL)
            waiter.join(30)
            assert not waiter.is_alive() and "marked failed" in said[-1]
    finally:
        holder.kill()
        holder.wait()


def test_runs_left_running_end_failed_with_a_note(tmp_path: Path) -> None:
    from resources.mlflow_tracker import KIND_FINE_TUNE, MlflowTracker

    tracker = MlflowTracker(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}", artifact_root=str(tmp_path / "a"))
    run_id = tracker.run_for(study="s", partition="mig__b8__m", kind=KIND_FINE_TUNE, tags={})
    tracker.client().update_run(run_id, status="RUNNING")  # what a killed writer leaves
    assert tracker.fail_running("s", "its writer was gone") == ["mig__b8__m"]
    run = tracker.client().get_run(run_id)
    assert run.info.status == "FAILED" and run.data.tags["infosift.note"] == "its writer was gone"
    assert tracker.fail_running("s", "again") == []


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_tracker_is_one_line_within_seconds() -> None:
    from resources.mlflow_tracker import MlflowTracker, TrackerUnreachable

    uri = f"http://127.0.0.1:{_closed_port()}"
    start = time.monotonic()
    with pytest.raises(TrackerUnreachable) as error:
        MlflowTracker(tracking_uri=uri, artifact_root="/tmp/unused").check_reachable()
    assert time.monotonic() - start < 6 and uri in str(error.value) and "\n" not in str(error.value)


GRID = """
study: faults
seed: 0
pool:
  limit_per_source: 4
selectors: [random]
budgets: [4]
base_models:
  smollm2-135m: embedded
"""


@pytest.fixture()
def main_job_env(tmp_path: Path, data_dir: Path) -> dict:
    grid = tmp_path / "grid.yaml"
    grid.write_text(GRID)
    env = {**os.environ, "INFOSIFT_HOME": str(tmp_path / "home"), "INFOSIFT_DATA_DIR": str(data_dir),
           "INFOSIFT_ENV": "small", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
           "INFOSIFT_GRID": str(grid)}
    for name in ("DAGSTER_HOME", "MLFLOW_TRACKING_URI"):
        env.pop(name, None)
    return env


def _main_job(env: dict, *args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "dagster_project.run_loop", *args], cwd=REPO_ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def test_the_main_job_fails_before_any_work_on_a_tracker_that_is_down(main_job_env: dict) -> None:
    uri = f"http://127.0.0.1:{_closed_port()}"
    start = time.monotonic()
    job = _main_job({**main_job_env, "MLFLOW_TRACKING_URI": uri})
    out, err = job.communicate(timeout=120)
    seconds = time.monotonic() - start
    assert job.returncode == 1 and out == "", err
    assert err.strip().count("\n") == 0 and uri in err and "not reachable" in err, err
    assert seconds < 60  # the interpreter and the grid load; the check itself is one refused connection
    assert not (Path(main_job_env["INFOSIFT_HOME"]) / "studies" / "faults" / "dagster" / "runs.db").exists()


HOLD_LOCK = """
import sys, time
from pathlib import Path
from selection_ops.foundation import file_lock
file_lock.acquire_exclusive(Path(sys.argv[1]))
print("held", flush=True)
time.sleep(float(sys.argv[2]))
"""


def test_a_second_main_job_is_refused_or_waits_and_sigterm_ends_it_with_its_runs_marked(main_job_env: dict) -> None:
    from dagster import DagsterInstance, DagsterRunStatus, RunsFilter
    from mlflow.tracking import MlflowClient

    study = Path(main_job_env["INFOSIFT_HOME"]) / "studies" / "faults"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(study / "study.lock"), "300"], cwd=REPO_ROOT,
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    refused = _main_job(main_job_env)
    out, err = refused.communicate(timeout=120)
    assert refused.returncode == 1 and out == "", err
    assert f"study 'faults' is already being written by pid {holder.pid} on " in err and "--wait" in err, err

    waiting = _main_job(main_job_env, "--wait")
    lines: list[str] = []
    errors: list[str] = []
    threading.Thread(target=lambda: lines.extend(waiting.stdout), daemon=True).start()
    threading.Thread(target=lambda: errors.extend(waiting.stderr), daemon=True).start()
    assert _wait_for(lambda: errors, 120), "the second job did not say it waits"
    assert f"study 'faults' is being written by pid {holder.pid} on " in errors[0] and "waiting" in errors[0]
    holder.terminate()
    holder.wait()
    assert _wait_for(lambda: any(line.startswith(("pool", "grid")) for line in lines), 240), \
        "the waiting job never started after the holder ended"
    time.sleep(3)  # inside a step now (the pool or its annotation)
    stop = time.monotonic()
    waiting.send_signal(signal.SIGTERM)
    assert waiting.wait(timeout=30) == 143
    assert time.monotonic() - stop < 15
    time.sleep(0.5)
    assert any(line.startswith("stopped by SIGTERM:") for line in lines), "".join(lines)
    with DagsterInstance.from_config(str(study / "dagster")) as instance:
        unfinished = instance.get_runs(filters=RunsFilter(statuses=[DagsterRunStatus.STARTED,
                                                                    DagsterRunStatus.STARTING,
                                                                    DagsterRunStatus.NOT_STARTED]))
        assert unfinished == []
    client = MlflowClient(tracking_uri=f"sqlite:///{Path(main_job_env['INFOSIFT_HOME']) / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("faults")
    if experiment is not None:
        assert not client.search_runs([experiment.experiment_id], filter_string="attributes.status = 'RUNNING'")
