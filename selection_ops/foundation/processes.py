"""Processes: the one way a run starts a tool's CLI (so nothing of it outlives the run), and who a process is.

``start_child`` runs a command under ``child_guard.py``: a small process in its own group that the kernel signals
when the thread that started it dies (SIGKILL of the run included) and that then kills the command and every
worker it started. Start children from the thread that lives as long as the run (the parent-death signal follows
the starting *thread*, not the process). ``end_children`` ends every child this process still has, for a job that
is told to stop.

``ProcessIdentity`` names a process beyond its pid (host, pid, kernel start time): a pid is reused, a pid with the
same start time is the same process. Stale records (a lock's holder, a Dagster run's worker) are judged with it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

GUARD = Path(__file__).resolve().with_name("child_guard.py")
_live: set[subprocess.Popen] = set()
_live_lock = threading.Lock()


def start_child(cmd: Sequence[str], *, cwd: Path | str | None = None, env: dict[str, str] | None = None,
                stdout: IO | int | None = None, stderr: IO | int | None = None) -> subprocess.Popen:
    """Start ``cmd`` under the guard (stdin closed); the returned Popen is the guard, its exit code the command's
    (128 + n when it was ended by signal n). Registered until ``wait_child`` or ``end_child`` returns."""
    guard = [sys.executable, "-S", str(GUARD), str(os.getpid()), "--", *map(str, cmd)]
    proc = subprocess.Popen(guard, cwd=cwd, env=env, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    with _live_lock:
        _live.add(proc)
    return proc


def wait_child(proc: subprocess.Popen, timeout_s: float | None = None, *,
               on_tick: Callable[[], None] | None = None, tick_s: float = 5.0) -> int:
    """Wait for a child of ``start_child``; on a timeout or any exception (an interrupt, or one raised by
    ``on_tick``, included) it is ended first, so no exit path of the caller leaves it running. Raises
    ``subprocess.TimeoutExpired`` after ending it. ``on_tick`` is called every ``tick_s`` seconds while the child
    runs (the caller's thread sleeps in ``wait`` between: nothing spins)."""
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    try:
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            step = left if on_tick is None else (tick_s if left is None else min(tick_s, left))
            try:
                return proc.wait(timeout=step)
            except subprocess.TimeoutExpired:
                if deadline is not None and time.monotonic() >= deadline:
                    raise subprocess.TimeoutExpired(proc.args, timeout_s) from None
                if on_tick is not None:
                    on_tick()
    except BaseException:
        end_child(proc)
        raise
    finally:
        with _live_lock:
            _live.discard(proc)


def end_child(proc: subprocess.Popen, grace_s: float = 5.0) -> None:
    """SIGTERM to the guard (it ends the command and its workers), SIGKILL to the whole group after ``grace_s``."""
    if proc.poll() is None:
        try:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=grace_s)
        except (subprocess.TimeoutExpired, OSError):
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the guard leads its own group; anything left in it goes
    except OSError:
        pass
    proc.poll()
    with _live_lock:
        _live.discard(proc)


def end_children(grace_s: float = 5.0) -> int:
    """End every child ``start_child`` started in this process and has not yet returned; returns how many."""
    with _live_lock:
        live = list(_live)
    for proc in live:
        if proc.poll() is None:
            try:
                proc.send_signal(signal.SIGTERM)
            except OSError:
                pass
    deadline = time.monotonic() + grace_s
    for proc in live:
        try:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        end_child(proc, grace_s=0)
    return len(live)


def live_children() -> list[int]:
    """Pids of the guards this process has started and not yet seen end."""
    with _live_lock:
        return [p.pid for p in _live if p.poll() is None]


# --- who a process is ---------------------------------------------------------------------------------------------

def _boot_time() -> float | None:
    try:
        for line in Path("/proc/stat").read_text().splitlines():
            if line.startswith("btime "):
                return float(line.split()[1])
    except OSError:
        pass
    return None


def process_start_time(pid: int) -> float | None:
    """When process ``pid`` started (seconds since the epoch, from ``/proc``); None when it does not exist (or
    there is no ``/proc``: the caller then falls back to ``pid_alive``)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()
    except OSError:
        return None
    boot = _boot_time()
    if boot is None:
        return None
    if fields[0] == b"Z":  # a zombie has finished; only its parent has not read its exit status yet
        return None
    return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return process_start_time(pid) is not None or not Path("/proc").is_dir()


@dataclass(frozen=True)
class ProcessIdentity:
    """A process beyond its pid: ``host``, ``pid`` and its kernel ``start`` time (seconds since the epoch)."""

    host: str
    pid: int
    start: float

    @classmethod
    def current(cls) -> ProcessIdentity:
        pid = os.getpid()
        return cls(host=socket.gethostname(), pid=pid, start=round(process_start_time(pid) or time.time(), 2))

    def to_tag(self) -> str:
        return f"{self.host}:{self.pid}:{self.start:.2f}"

    @classmethod
    def from_tag(cls, text: str) -> ProcessIdentity:
        host, pid, start = text.rsplit(":", 2)
        return cls(host=host, pid=int(pid), start=float(start))

    def is_alive(self) -> bool | None:
        """True / False on this host; None for a process of another host (it cannot be checked from here)."""
        if self.host != socket.gethostname():
            return None
        if not pid_alive(self.pid):
            return False
        started = process_start_time(self.pid)
        return started is None or abs(started - self.start) < 2.0  # a reused pid started at another time

    def to_dict(self) -> dict[str, Any]:
        return {"host": self.host, "pid": self.pid, "start": self.start}
