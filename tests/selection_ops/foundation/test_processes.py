"""Children of a run die with it (real processes: a parent that starts a CLI whose worker leaves its session, then
is SIGKILLed), and a process is told apart from a later one with the same pid."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from selection_ops.foundation.processes import ProcessIdentity, pid_alive, process_start_time

pytestmark = pytest.mark.skipif(not Path("/proc").is_dir(), reason="Linux /proc and prctl")

# a "CLI" that starts a worker in its own session (as torchrun does) and writes both pids, then sleeps
CLI = """
import json, subprocess, sys, time
worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"], start_new_session=True)
open(sys.argv[1], "w").write(json.dumps({"cli": __import__("os").getpid(), "worker": worker.pid}))
time.sleep(300)
"""
# a "run": starts the CLI through the one helper from a thread that lives as long as it, then sleeps
RUN = """
import sys, threading, time
from selection_ops.foundation.processes import start_child
start_child([sys.executable, "-c", sys.argv[1], sys.argv[2]])
print("started", flush=True)
time.sleep(300)
"""


def _wait_for(predicate, timeout_s: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def _pids(path: Path) -> dict:
    assert _wait_for(lambda: path.is_file() and path.read_text()), "the CLI never started"
    return json.loads(path.read_text())


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_the_cli_and_its_worker_die_with_the_run_that_started_them(tmp_path: Path, sig: int) -> None:
    pids_file = tmp_path / "pids.json"
    run = subprocess.Popen([sys.executable, "-c", RUN, CLI, str(pids_file)], stdout=subprocess.PIPE, text=True,
                           cwd=Path(__file__).resolve().parents[3])
    try:
        pids = _pids(pids_file)
        assert pid_alive(pids["cli"]) and pid_alive(pids["worker"])
        os.kill(run.pid, sig)
        run.wait(timeout=60)
        assert _wait_for(lambda: not pid_alive(pids["cli"]) and not pid_alive(pids["worker"]), 15), \
            f"orphans left after {sig.name}: {pids}"
    finally:
        run.kill()
        for pid in _pids(pids_file).values() if pids_file.is_file() else ():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def test_a_timeout_ends_the_cli_and_its_worker(tmp_path: Path) -> None:
    from resources.cli_process import run_logged

    pids_file = tmp_path / "pids.json"
    start = time.monotonic()
    with pytest.raises(RuntimeError, match="timed out after 3"):
        run_logged([sys.executable, "-c", CLI, str(pids_file)], cwd=tmp_path, env=dict(os.environ),
                   log_path=tmp_path / "cli.log", timeout_s=3, error=RuntimeError)
    assert time.monotonic() - start < 15
    pids = _pids(pids_file)
    assert _wait_for(lambda: not pid_alive(pids["cli"]) and not pid_alive(pids["worker"]), 10)


def test_a_failing_cli_reports_its_exit_code_and_log(tmp_path: Path) -> None:
    from resources.cli_process import run_logged

    with pytest.raises(RuntimeError, match=r"exited 3; log .*cli.log; tail:\nboom"):
        run_logged([sys.executable, "-c", "import sys; print('boom'); sys.exit(3)"], cwd=tmp_path,
                   env=dict(os.environ), log_path=tmp_path / "cli.log", timeout_s=60, error=RuntimeError)


def test_a_process_identity_tells_a_reused_pid_from_the_original() -> None:
    me = ProcessIdentity.current()
    assert ProcessIdentity.from_tag(me.to_tag()) == me and me.is_alive() is True
    assert ProcessIdentity(me.host, me.pid, me.start - 3600).is_alive() is False  # same pid, another start
    assert ProcessIdentity("another-host", me.pid, me.start).is_alive() is None
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    assert not pid_alive(gone.pid) and process_start_time(gone.pid) is None
