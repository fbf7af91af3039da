"""The main job's terminal while a long step runs: one line a minute, with the newest line the step logged.

A step of the main job is one ``execute_in_process`` call that blocks until the step ends; a fine-tune or an
evaluation can take hours. ``StepTicker`` runs beside it (a daemon thread that sleeps between lines, it never
spins) and, every ``interval_s`` seconds, says how long the step has run and the newest message the step wrote to
Dagster's log: the training's ``step 12/40 loss 1.23 ... remaining 0:03:10`` or OpenCompass's ``answering
m/arc_c (dataset 1/3): batch 2/4 ...`` (``selection_ops.training_progress``, ``...evaluation.compass_progress``).
The run id is chosen before the run starts so the ticker can read that run's log while it is being written.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from types import TracebackType

TICK_S = 60.0


def new_run_id() -> str:
    """A run id for ``execute_in_process(run_id=...)``: Dagster's own are UUID4 strings too."""
    return str(uuid.uuid4())


def newest_message(instance, run_id: str) -> str:
    """The last message the run's code logged (``context.log``), not Dagster's own events; empty when none."""
    for entry in reversed(instance.all_logs(run_id)):
        if entry.dagster_event is None and entry.user_message:
            return entry.user_message.strip().splitlines()[0]
    return ""


class StepTicker:
    """``with StepTicker(instance, run_id, say, prefix):`` around a step: ``say(f"{prefix} running 3 min: <newest
    message>")`` every ``interval_s`` seconds until the block ends; nothing for a step shorter than that."""

    def __init__(self, instance, run_id: str, say: Callable[[str], None], prefix: str,
                 interval_s: float = TICK_S) -> None:
        self.instance = instance
        self.run_id = run_id
        self.say = say
        self.prefix = prefix
        self.interval_s = interval_s
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._tick, name=f"ticker-{run_id[:8]}", daemon=True)

    def __enter__(self) -> StepTicker:
        self._started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._done.set()
        self._thread.join(timeout=5)

    def _tick(self) -> None:
        while not self._done.wait(self.interval_s):
            try:
                message = newest_message(self.instance, self.run_id)
            except Exception:  # noqa: BLE001 - a log not readable yet (the run not stored yet) is no progress
                message = ""
            minutes = (time.monotonic() - self._started) / 60
            self.say(f"{self.prefix} running {minutes:.0f} min" + (f": {message}" if message else ""))
