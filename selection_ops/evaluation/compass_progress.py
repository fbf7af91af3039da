"""Live progress of an OpenCompass run (knowledge benchmarks, or the preference half with its judge), read from the
log the CLI writes while it runs.

OpenCompass (``--debug`` mode, one process) logs, per inference task: ``Task [<model>/<dataset>]``, ``The Progress
of This Task --> Models: 1/1, Datasets: 2/3``, ``Start inferencing [<model>/<dataset>]``, then the inferencer's
``Starting inference process...`` and a tqdm bar over batches (``50%|█████     | 2/4 [00:18<00:18,  9.41s/it]``,
redrawn with carriage returns, not newlines). In the subjective pipeline the judge's inference has no ``Start
inferencing`` line of its own: an inference that starts unannounced is the judge judging. Evaluation logs
``Running 0-th replica of evaluation``; the end is the summary table. Without ``--debug`` (several workers) the main
log carries one tqdm bar over the tasks, which is read the same way.

``CompassProgress`` is what the log has said so far; ``CompassLogFollower`` reads what was appended since its last
call (a last line still being written is held back); ``CompassProgressReporter`` hands a line to a callback at most
every ``interval_s`` seconds: ``answering baseline/ref_bpb_alpaca (dataset 2/3): batch 1/3, 00:55 elapsed, 01:50
left; 3m10s in``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from selection_ops.log_follow import PROGRESS_INTERVAL_S, AppendedLines

_TASK = re.compile(r"- Task \[(?P<task>[^\]]+)\]")
_DATASETS = re.compile(r"Progress of This Task --> .*Datasets: (?P<done>\d+)/(?P<total>\d+)")
_START = re.compile(r"Start inferencing \[(?P<task>[^\]]+)\]")
_INFERENCE = re.compile(r"Starting inference process")
_EVALUATION = re.compile(r"Running \d+-th replica of evaluation")
_SUMMARY = re.compile(r"write summary to ")
_BAR = re.compile(r"(?P<done>\d+)/(?P<total>\d+) \[(?P<elapsed>[\d:]+)<(?P<left>[\d:?]+)")


@dataclass
class CompassProgress:
    """What an OpenCompass log has said so far: the stage (``answering``, ``judging``, ``scoring``, ``done``), the
    task it names (``<model>/<dataset>``), which dataset of the task's list, and the newest batch bar."""

    stage: str = ""
    task: str = ""
    dataset: tuple[int, int] | None = None
    batch: tuple[int, int] | None = None
    elapsed: str = ""
    left: str = ""
    _announced: bool = False

    def read_line(self, line: str) -> None:
        """Update from one line (or one carriage-return segment of a tqdm redraw)."""
        if match := _TASK.search(line):
            self.task = match["task"]
        if match := _DATASETS.search(line):
            self.dataset = (int(match["done"]), int(match["total"]))
        if match := _START.search(line):
            self.task, self.stage, self._announced, self.batch = match["task"], "answering", True, None
        elif _INFERENCE.search(line):
            if not self._announced:  # an inference nobody announced: the subjective pipeline's judge
                self.stage, self.batch = "judging", None
            self._announced = False
        elif _EVALUATION.search(line):
            self.stage, self.batch = "scoring", None
        elif _SUMMARY.search(line):
            self.stage, self.batch = "done", None
        for match in _BAR.finditer(line):  # the last redraw on the line is the newest
            self.batch = (int(match["done"]), int(match["total"]))
            self.elapsed, self.left = match["elapsed"], match["left"]

    def line(self) -> str:
        """``answering m/arc_c (dataset 1/3): batch 2/4, 00:18 elapsed, 00:18 left`` (parts not known yet left out);
        empty before the log says anything."""
        if not (self.stage or self.task or self.batch):
            return ""
        head = " ".join(part for part in (self.stage or "running", self.task) if part)
        if self.dataset and self.stage == "answering":
            head += f" (dataset {self.dataset[0]}/{self.dataset[1]})"
        if self.batch:
            head += f": batch {self.batch[0]}/{self.batch[1]}, {self.elapsed} elapsed, {self.left} left"
        return head


class CompassLogFollower:
    """Reads what was appended to ``path`` since the last ``read_new`` into ``progress``; a segment not yet ended
    by a newline or carriage return is held back until it is."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.progress = CompassProgress()
        self._lines = AppendedLines(path, ends=rb"\r|\n")

    def read_new(self) -> CompassProgress:
        for segment in self._lines.read_new():
            self.progress.read_line(segment.decode("utf-8", errors="replace"))
        return self.progress


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


class CompassProgressReporter:
    """Calls ``on_progress(line)`` on ``poll`` with the log's progress and the time since the reporter started: the
    first line as soon as the log says anything, then every ``interval_s`` seconds (``clock``:
    ``time.monotonic``), changed or not, so a quiet stage (a model loading, a slow batch) still shows it is alive;
    ``flush`` reports the end once."""

    def __init__(self, path: str | Path, on_progress: Callable[[str], None], label: str = "OpenCompass",
                 interval_s: float = PROGRESS_INTERVAL_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.follower = CompassLogFollower(path)
        self.on_progress = on_progress
        self.label = label
        self.interval_s = interval_s
        self.clock = clock
        self._started = clock()
        self._reported_at: float | None = None
        self._last = ""

    def poll(self) -> None:
        text = self.follower.read_new().line()
        now = self.clock()
        if text and (self._reported_at is None or now - self._reported_at >= self.interval_s):
            self._report(text, now)

    def flush(self) -> None:
        text = self.follower.read_new().line()
        if text and text != self._last:
            self._report(text, self.clock())

    def _report(self, text: str, now: float) -> None:
        self._reported_at, self._last = now, text
        self.on_progress(f"{self.label}: {text}; {_duration(now - self._started)} in")
