"""The study lock with real processes: a second writer is refused with the holder named, waits with ``wait``,
is never blocked by a dead holder (the kernel releases the lock), and shared holders exclude only the writer."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from selection_ops.foundation import file_lock

REPO = Path(__file__).resolve().parents[3]
HOLD = """
import sys, time
from pathlib import Path
from selection_ops.foundation import file_lock
if sys.argv[2] == "shared":
    with file_lock.shared(Path(sys.argv[1])):
        print("held", flush=True)
        time.sleep(float(sys.argv[3]))
else:
    file_lock.acquire_exclusive(Path(sys.argv[1]))
    print("held", flush=True)
    time.sleep(float(sys.argv[3]))
"""


def _holder(lock: Path, mode: str = "exclusive", seconds: float = 300) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(lock), mode, str(seconds)], cwd=REPO,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_writer_is_refused_with_the_holder_named(tmp_path: Path) -> None:
    lock = tmp_path / "study" / "study.lock"
    holder = _holder(lock)
    try:
        with pytest.raises(file_lock.LockHeld) as refused:
            file_lock.acquire_exclusive(lock)
        message = str(refused.value)
        assert f"pid {holder.pid} on " in message and "since " in message and "-c" in message
    finally:
        holder.kill()
        holder.wait()


def test_a_killed_holder_never_blocks_the_next_writer(tmp_path: Path) -> None:
    lock = tmp_path / "study.lock"
    holder = _holder(lock)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    file_lock.acquire_exclusive(lock)
    try:
        assert file_lock.held_here(lock)
        assert f"pid {os.getpid()} " in file_lock.describe_holder(lock)  # the record now names this process
    finally:
        file_lock.release(lock)
    assert not file_lock.held_here(lock)


def test_wait_waits_for_the_holder_and_says_who_it_is(tmp_path: Path) -> None:
    lock = tmp_path / "study.lock"
    holder = _holder(lock, seconds=2)
    said: list[str] = []
    start = time.monotonic()
    file_lock.acquire_exclusive(lock, wait=True, on_wait=lambda who, waited: said.append(who), poll_s=0.2)
    try:
        assert time.monotonic() - start >= 1.0
        assert len(said) == 1 and f"pid {holder.pid} " in said[0]
    finally:
        file_lock.release(lock)
        holder.wait()


def test_shared_holders_exclude_only_the_writer(tmp_path: Path) -> None:
    lock = tmp_path / "study.lock"
    step = _holder(lock, mode="shared")
    try:
        with file_lock.shared(lock):  # a second UI step runs beside the first
            pass
        with pytest.raises(file_lock.LockHeld, match="Dagster UI"):
            file_lock.acquire_exclusive(lock)
    finally:
        step.kill()
        step.wait()
    file_lock.acquire_exclusive(lock)
    try:
        with file_lock.shared(lock):  # the main job's own steps: a no-op in the process that holds it
            pass
        blocked = subprocess.Popen([sys.executable, "-c", HOLD, str(lock), "shared", "0"], cwd=REPO,
                                   stdout=subprocess.PIPE, text=True)
        time.sleep(1.5)
        assert blocked.poll() is None, "a UI step wrote while the main job held the study"
    finally:
        file_lock.release(lock)
    assert blocked.stdout.readline().strip() == "held"
    blocked.wait(timeout=30)


def test_two_studies_never_wait_on_each_other(tmp_path: Path) -> None:
    holder = _holder(tmp_path / "a" / "study.lock")
    try:
        file_lock.acquire_exclusive(tmp_path / "b" / "study.lock")
        file_lock.release(tmp_path / "b" / "study.lock")
    finally:
        holder.kill()
        holder.wait()
