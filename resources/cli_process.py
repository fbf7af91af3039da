"""Running a tool's real CLI as a subprocess with its output in a log file, the way training and evaluation do."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

LOG_TAIL_CHARS = 4000


def log_tail(log_path: Path, chars: int = LOG_TAIL_CHARS) -> str:
    """The last ``chars`` characters of a log, for error messages; ``<no log>`` when it cannot be read."""
    try:
        return Path(log_path).read_text(errors="replace")[-chars:]
    except OSError:
        return "<no log>"


def run_logged(cmd: Sequence[str], *, cwd: Path, env: dict[str, str], log_path: Path, timeout_s: float | None,
               error: type[Exception]) -> float:
    """Run ``cmd`` with stdout + stderr into ``log_path``; returns the wall time in seconds.

    A timeout (the process is killed) or a non-zero exit raises ``error`` naming the command, the log and its tail.
    """
    name = " ".join(Path(cmd[0]).name.split() + list(cmd[1:2]))
    start = time.monotonic()
    with open(log_path, "w") as log_file:
        proc = subprocess.Popen(list(cmd), cwd=cwd, env=env, stdout=log_file, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
        try:
            returncode = proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise error(f"{name} timed out after {timeout_s} s; log {log_path}; tail:\n{log_tail(log_path)}") from None
    if returncode != 0:
        raise error(f"{name} exited {returncode}; log {log_path}; tail:\n{log_tail(log_path)}")
    return time.monotonic() - start
