"""An OS file lock (``fcntl.flock``) that says who holds it: one writer per study.

The exclusive holder (the main job) writes who it is into the lock file (host, pid, start time, command); the kernel
releases the lock when the holder dies, however it dies, so a stale file never blocks anyone: only a live holder
does. Shared holders (the steps of runs launched from the Dagster UI) write nothing and exclude only an exclusive
holder. ``flock`` locks belong to an open file, not to a process, so this process remembers which locks it holds
exclusively and a shared request inside it is then a no-op (the main job's own steps run in its process).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

from selection_ops.foundation.processes import ProcessIdentity

_held_exclusive: dict[Path, int] = {}  # lock path -> open file descriptor, for locks this process holds


class LockHeld(RuntimeError):
    """The lock is held by someone else; the message names the holder."""


def describe_holder(path: Path) -> str:
    """Who holds ``path`` as its file says: ``pid N on HOST since TIME (M min): COMMAND``, or the shared holders."""
    try:
        holder = json.loads(Path(path).read_text() or "null")
    except (OSError, ValueError):
        holder = None
    if isinstance(holder, dict) and "pid" in holder:
        identity = ProcessIdentity(host=holder.get("host", ""), pid=int(holder["pid"]),
                                   start=float(holder.get("start", 0)))
        if identity.is_alive() is not False:
            since = datetime.fromtimestamp(holder.get("since", identity.start)).strftime("%Y-%m-%d %H:%M:%S")
            minutes = (time.time() - holder.get("since", identity.start)) / 60
            return (f"pid {identity.pid} on {identity.host} since {since} ({minutes:.0f} min): "
                    f"{holder.get('command', '?')}")
    return "steps of runs launched from the Dagster UI (they hold it shared while they write)"


def held_here(path: Path) -> bool:
    return Path(path).resolve() in _held_exclusive


def acquire_exclusive(path: Path, *, wait: bool = False, on_wait: Callable[[str, float], None] | None = None,
                      poll_s: float = 1.0, report_every_s: float = 60.0) -> None:
    """Take ``path`` exclusively for this process's life (or until ``release``), recording who holds it.

    Held elsewhere: without ``wait`` raise LockHeld naming the holder; with ``wait`` poll every ``poll_s`` (asleep,
    no spinning) and call ``on_wait(holder, waited_s)`` at once and then every ``report_every_s``."""
    path = Path(path).resolve()
    if path in _held_exclusive:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _take(fd, path, fcntl.LOCK_EX, wait, on_wait, poll_s, report_every_s)
    except LockHeld:
        os.close(fd)
        raise
    me = ProcessIdentity.current()
    record = {**me.to_dict(), "since": time.time(), "command": " ".join([os.path.basename(sys.executable),
                                                                         *sys.argv])}
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(record).encode(), 0)
    os.fsync(fd)
    _held_exclusive[path] = fd


def _take(fd: int, path: Path, mode: int, wait: bool, on_wait: Callable[[str, float], None] | None, poll_s: float,
          report_every_s: float) -> None:
    """flock ``fd`` in ``mode`` (LOCK_EX / LOCK_SH). Held elsewhere: without ``wait`` raise LockHeld naming the
    holder; with it poll every ``poll_s`` (asleep) and call ``on_wait(holder, waited_s)`` at once and then every
    ``report_every_s``."""
    started, reported = time.monotonic(), None
    while True:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if not wait:
                raise LockHeld(f"{path} is held by {describe_holder(path)}") from None
            waited = time.monotonic() - started
            if on_wait and (reported is None or waited - reported >= report_every_s):
                on_wait(describe_holder(path), waited)
                reported = waited
            time.sleep(poll_s)


def release(path: Path) -> None:
    """Release an exclusive lock this process holds (its record is cleared first); no-op otherwise."""
    fd = _held_exclusive.pop(Path(path).resolve(), None)
    if fd is not None:
        os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


@contextlib.contextmanager
def shared(path: Path, *, on_wait: Callable[[str, float], None] | None = None, poll_s: float = 1.0,
           report_every_s: float = 60.0) -> Iterator[None]:
    """Hold ``path`` shared for the block (waiting, asleep, while an exclusive holder has it); a no-op in the
    process that holds it exclusively."""
    path = Path(path).resolve()
    if path in _held_exclusive:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _take(fd, path, fcntl.LOCK_SH, True, on_wait, poll_s, report_every_s)
        yield
    finally:
        os.close(fd)  # closing the last descriptor of the open file releases the lock
