"""Running a tool's real CLI as a subprocess with its output in a log file, the way training and evaluation do.

Every CLI the loop starts (``llamafactory-cli train``, ``opencompass`` and the judge it runs) goes through
``run_logged``, which starts it with ``selection_ops.foundation.processes.start_child``: the command and every
worker it starts end with the run that started it, whatever ends the run (an error, Ctrl-C, SIGTERM, SIGKILL).
"""

from __future__ import annotations

import logging
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from selection_ops.foundation.processes import start_child, wait_child

LOG_TAIL_CHARS = 4000

logger = logging.getLogger(__name__)


class ProgressSource(Protocol):
    """A reader of a progress file a CLI writes (``poll`` while it runs, ``flush`` once at the end)."""

    def poll(self) -> None: ...

    def flush(self) -> None: ...


class FollowProgress:
    """``run_logged``'s ``on_tick`` for a progress reader: ``tick()`` polls it, ``final()`` flushes it. A reader
    that raises is logged once and dropped: progress is a view, it never ends the run it describes."""

    def __init__(self, source: ProgressSource | None, what: str) -> None:
        self.source = source
        self.what = what

    def tick(self) -> None:
        self._call("poll")

    def final(self) -> None:
        self._call("flush")

    def _call(self, method: str) -> None:
        if self.source is None:
            return
        try:
            getattr(self.source, method)()
        except Exception as error:  # noqa: BLE001 - see the class docstring
            logger.warning("progress of %s no longer reported: %s", self.what, error)
            self.source = None


def log_tail(log_path: Path, chars: int = LOG_TAIL_CHARS) -> str:
    """The last ``chars`` characters of a log, for error messages; ``<no log>`` when it cannot be read."""
    try:
        return Path(log_path).read_text(errors="replace")[-chars:]
    except OSError:
        return "<no log>"


def run_logged(cmd: Sequence[str], *, cwd: Path, env: dict[str, str], log_path: Path, timeout_s: float | None,
               error: type[Exception], on_tick: Callable[[], None] | None = None, tick_s: float = 5.0) -> float:
    """Run ``cmd`` with stdout + stderr into ``log_path``; returns the wall time in seconds. ``on_tick`` is called
    every ``tick_s`` seconds while it runs (to follow a progress file the command writes).

    A timeout (the command and its workers are ended) or a non-zero exit raises ``error`` naming the command, the
    log and its tail; an interrupt of the caller ends the command before it propagates.
    """
    name = " ".join(Path(cmd[0]).name.split() + list(cmd[1:2]))
    start = time.monotonic()
    with open(log_path, "w") as log_file:
        proc = start_child(list(cmd), cwd=cwd, env=env, stdout=log_file, stderr=subprocess.STDOUT)
        try:
            returncode = wait_child(proc, timeout_s, on_tick=on_tick, tick_s=tick_s)
        except subprocess.TimeoutExpired:
            raise error(f"{name} timed out after {timeout_s} s; log {log_path}; tail:\n{log_tail(log_path)}") from None
    if returncode != 0:
        raise error(f"{name} exited {returncode}; log {log_path}; tail:\n{log_tail(log_path)}")
    return time.monotonic() - start
