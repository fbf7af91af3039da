"""The study's Dagster instance: its folder (the layout's ``dagster/``) and the dagster.yaml the project writes.

The instance holds the concurrency limit of the accelerator pool that training and evaluation declare: 1 on a CPU
machine (one fine-tune or evaluation at a time uses every core), the number of GPUs otherwise, or
``$INFOSIFT_ACCELERATOR_SLOTS``. A UI backfill of the whole grid then queues and runs without oversubscribing.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from dagster_project.constants import ACCELERATOR_SLOTS_ENV
from selection_ops.foundation.atomic import write_text_atomic


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


def instance_config(slots: int) -> dict:
    return {
        "telemetry": {"enabled": False},
        # every pool without its own limit (training and evaluation share "accelerator") gets `slots`
        "concurrency": {"pools": {"default_limit": slots, "granularity": "op"}},
    }


def write_instance_config(dagster_home: Path, slots: int | None = None) -> Path:
    """Write ``<dagster_home>/dagster.yaml`` (atomically; rewritten only when it changes); returns its path."""
    path = Path(dagster_home) / "dagster.yaml"
    text = ("# Written by infosift (dagster_project/instance.py); edits are replaced on the next run.\n"
            + yaml.safe_dump(instance_config(accelerator_slots() if slots is None else slots), sort_keys=False))
    if not path.is_file() or path.read_text() != text:
        write_text_atomic(path, text)
    return path
