"""The study's Dagster instance: its folder (the layout's ``dagster/``) and the dagster.yaml the project writes.

The instance holds the concurrency limit of the accelerator pool that training and evaluation declare: 1 on a CPU
machine (one fine-tune or evaluation at a time uses every core), the number of GPUs otherwise, or
``$INFOSIFT_ACCELERATOR_SLOTS``. A UI backfill of the whole grid then queues and runs without oversubscribing.

The run queue fits the machine too: at most ``slots`` runs tagged ``infosift/accelerator`` (the jobs that fine-tune
or evaluate) are in progress at once, and ``slots + CHEAP_RUNS`` runs in all, so selections and reports still start
while the accelerator is busy, and no more runs sit blocked on the pool than it can serve (Dagster's default queue
admits 10).

It also turns on Dagster's run monitoring for ``dagster dev``'s daemon: runs stuck starting or cancelling are
failed, and the pool slots of a run that ended (however it ended, a run failed from outside included) are freed
after ``FREE_SLOTS_AFTER_S``. Dagster's default run launcher cannot check whether a run's worker process is still
alive, so the daemon does not find a run whose worker was killed; the main job does, on start
(``dagster_project.recovery``: a run whose recorded process is gone is marked failed and its slots freed).

Beside it the main job writes the study's own ``workspace.yaml``: the same definitions as the repository's, under a
code location named after the study and its grid file, so the UI says which study it shows.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from assets.constants import ACCELERATOR_RUN_TAG, ACCELERATOR_SLOTS_ENV
from selection_ops.foundation.atomic import write_text_atomic
from selection_ops.foundation.paths import REPO_ROOT


def accelerator_slots() -> int:
    """``$INFOSIFT_ACCELERATOR_SLOTS``, else the number of CUDA devices, else 1."""
    setting = os.environ.get(ACCELERATOR_SLOTS_ENV)
    if setting:
        slots = int(setting)
        if slots < 1:
            raise ValueError(f"{ACCELERATOR_SLOTS_ENV}={setting}: must be a positive integer")
        return slots
    try:
        import torch

        return max(1, torch.cuda.device_count())
    except ImportError:
        return 1


FREE_SLOTS_AFTER_S = 30  # the daemon frees the pool slots of a run this long after it ended
RUN_START_TIMEOUT_S = 300  # a launched run whose worker has not started by then is failed
RUN_CANCEL_TIMEOUT_S = 120  # a run still cancelling after this is marked cancelled
CHEAP_RUNS = 2  # runs beyond the accelerator's slots the queue admits: selections, the report, preparation


def run_queue(slots: int) -> dict:
    """The instance's run limits: ``slots + CHEAP_RUNS`` runs in progress, ``slots`` of them accelerator runs."""
    return {"max_concurrent_runs": slots + CHEAP_RUNS,
            "tag_concurrency_limits": [{"key": ACCELERATOR_RUN_TAG, "value": "true", "limit": slots}]}


def instance_config(slots: int) -> dict:
    return {
        "telemetry": {"enabled": False},
        # every pool without its own limit (training and evaluation share "accelerator") gets `slots`
        "concurrency": {"pools": {"default_limit": slots, "granularity": "op"}, "runs": run_queue(slots)},
        "run_monitoring": {"enabled": True, "start_timeout_seconds": RUN_START_TIMEOUT_S,
                           "cancel_timeout_seconds": RUN_CANCEL_TIMEOUT_S, "poll_interval_seconds": 30,
                           "free_slots_after_run_end_seconds": FREE_SLOTS_AFTER_S},
    }


def write_instance_config(dagster_home: Path, slots: int | None = None) -> Path:
    """Write ``<dagster_home>/dagster.yaml`` (atomically; rewritten only when it changes); returns its path."""
    return _write_generated(Path(dagster_home) / "dagster.yaml",
                            instance_config(accelerator_slots() if slots is None else slots))


def location_name(study: str, grid_file: Path) -> str:
    """The code location's name in the UI: ``infosift:<study>:<grid file name>``."""
    return f"infosift:{study}:{Path(grid_file).name}"


def write_workspace(dagster_home: Path, study: str, grid_file: Path) -> Path:
    """Write ``<dagster_home>/workspace.yaml``: the project's definitions as the code location
    ``location_name(study, grid_file)`` (for ``dagster dev -w``); returns its path."""
    return _write_generated(Path(dagster_home) / "workspace.yaml", {"load_from": [{"python_module": {
        "module_name": "dagster_project.definitions", "working_directory": str(REPO_ROOT),
        "location_name": location_name(study, grid_file)}}]})


def _write_generated(path: Path, config: dict) -> Path:
    """``config`` as YAML under a do-not-edit line, written atomically and only when it changed."""
    text = ("# Written by infosift (dagster_project/instance.py); edits are replaced on the next run.\n"
            + yaml.safe_dump(config, sort_keys=False))
    if not path.is_file() or path.read_text() != text:
        write_text_atomic(path, text)
    return path
