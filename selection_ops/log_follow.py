"""Following a log a child process is still writing: the complete lines appended since the last read.

Training (LLaMA-Factory's ``trainer_log.jsonl``) and evaluation (OpenCompass's log) report progress this way; both
are read from where the previous read stopped, and a last line whose end has not been written yet is held back
until it is, so no reader ever sees half a record. ``PROGRESS_INTERVAL_S`` is how often a progress line reaches
the user.
"""

from __future__ import annotations

import re
from pathlib import Path

PROGRESS_INTERVAL_S = 30.0


class AppendedLines:
    """``read_new()``: the lines appended to ``path`` since the previous call (none while the file does not exist),
    without their ends; ``ends`` is the pattern a line ends with (``\\n``; OpenCompass's tqdm bars also redraw with
    ``\\r``)."""

    def __init__(self, path: str | Path, ends: bytes = rb"\n") -> None:
        self.path = Path(path)
        self._ends = re.compile(ends)
        self._offset = 0
        self._partial = b""

    def read_new(self) -> list[bytes]:
        try:
            with open(self.path, "rb") as log:
                log.seek(self._offset)
                chunk = log.read()
        except FileNotFoundError:
            return []
        self._offset += len(chunk)
        *lines, self._partial = self._ends.split(self._partial + chunk)
        return lines
