"""Live progress of a fine-tune, read from LLaMA-Factory's ``trainer_log.jsonl`` while it is being written.

LLaMA-Factory's ``LogCallback`` (``llamafactory/train/callbacks.py``) appends one JSON object per logged step to
``<output_dir>/trainer_log.jsonl``: ``current_steps``, ``total_steps``, ``loss``, ``lr``, ``epoch``, ``percentage``,
``elapsed_time``, ``remaining_time`` (``"0:01:02"``), with ``None`` values left out (the last entry of a run, written
on the final summary log, has no ``loss``), and ``throughput`` / ``total_tokens`` when tokens are counted. It writes
from a thread, so the file may end in a line still being written: ``TrainerLogFollower`` keeps such a partial line
until its newline arrives. ``ProgressReporter`` hands the newest step to a callback at most every ``interval_s``
seconds (and once more at the end), so a log viewer gets a line per half minute, not one per step; ``on_step``
gets every step that logged a loss as soon as it is read (a live metric history: MLflow's ``train.loss``).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from selection_ops.log_follow import PROGRESS_INTERVAL_S, AppendedLines

logger = logging.getLogger(__name__)

TRAINER_LOG = "trainer_log.jsonl"

ProgressCallback = Callable[[str, dict[str, Any]], None]
StepCallback = Callable[[dict[str, Any]], None]


class TrainerLogFollower:
    """Reads the records appended to a ``trainer_log.jsonl`` since the last ``read_new`` (the file may not exist
    yet); a last line without its newline is held back until it is complete."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lines = AppendedLines(path)
        self._line_no = 0

    def read_new(self) -> list[dict[str, Any]]:
        """The complete records written since the previous call, in file order. A complete line that is not a JSON
        object is skipped with a warning naming the file and line (progress is a view; the run's loss is read from
        the finished files)."""
        lines = self._lines.read_new()
        records = []
        for line in lines:
            self._line_no += 1
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                logger.warning("%s:%d: not a JSON record (%s); skipped", self.path, self._line_no, error)
                continue
            if isinstance(record, dict):
                records.append(record)
            else:
                logger.warning("%s:%d: a JSON %s, not an object; skipped", self.path, self._line_no,
                               type(record).__name__)
        return records


def progress_line(record: dict[str, Any]) -> str:
    """One line for a ``trainer_log.jsonl`` record: ``step 12/40 (30.0%) loss 1.2345 lr 1.00e-05 epoch 0.30
    elapsed 0:00:31 remaining 0:01:12``; fields the record lacks are left out."""
    parts = [f"step {record.get('current_steps', '?')}/{record.get('total_steps', '?')}"]
    if "percentage" in record:
        parts[0] += f" ({float(record['percentage']):.1f}%)"
    if "loss" in record:
        parts.append(f"loss {float(record['loss']):.4f}")
    if "lr" in record:
        parts.append(f"lr {float(record['lr']):.2e}")
    if "epoch" in record:
        parts.append(f"epoch {float(record['epoch']):.2f}")
    for key in ("elapsed_time", "remaining_time"):
        if record.get(key):
            parts.append(f"{key.removesuffix('_time')} {record[key]}")
    if "throughput" in record:
        parts.append(f"{float(record['throughput']):.0f} tokens/s")
    return " ".join(parts)


class ProgressReporter:
    """Calls ``on_progress(line, record)`` with the newest step of ``path`` on ``poll``: the first step as soon as
    it is logged, then at most once every ``interval_s`` seconds (``clock``: ``time.monotonic``), and on ``flush``
    the newest step not yet reported (the end of a run). Records without ``current_steps`` are not steps; a second
    record of the same step (the summary entry at a run's end) adds to the first. ``on_step(record)`` (optional) is
    called on every step record that has a ``loss``, once each, in step order, as it is read."""

    def __init__(self, path: str | Path, on_progress: ProgressCallback, interval_s: float = PROGRESS_INTERVAL_S,
                 clock: Callable[[], float] = time.monotonic, on_step: StepCallback | None = None) -> None:
        self.follower = TrainerLogFollower(path)
        self.on_progress = on_progress
        self.on_step = on_step
        self.interval_s = interval_s
        self.clock = clock
        self._newest: dict[str, Any] | None = None
        self._reported_step: int | None = None
        self._reported_at: float | None = None

    def poll(self) -> None:
        self._read()
        now = self.clock()
        if self._reported_at is None or now - self._reported_at >= self.interval_s:
            self._report(now)

    def flush(self) -> None:
        self._read()
        self._report(self.clock())

    def _read(self) -> None:
        for record in self.follower.read_new():
            if "current_steps" not in record:
                continue
            same_step = self._newest is not None and self._newest["current_steps"] == record["current_steps"]
            # the run's last entry repeats the last step without its loss: keep what the step's own entry said
            self._newest = {**self._newest, **record} if same_step else record
            if self.on_step is not None and "loss" in record:
                self.on_step(record)

    def _report(self, now: float) -> None:
        if self._newest is None or self._newest["current_steps"] == self._reported_step:
            return
        self._reported_step = self._newest["current_steps"]
        self._reported_at = now
        self.on_progress(progress_line(self._newest), self._newest)
