"""Evaluation beyond one GPU as OpenCompass configuration: partitioner and runner lines for a generated config.

OpenCompass already splits and schedules evaluation: ``NumWorkerPartitioner`` cuts each (model, dataset) into
``workers`` tasks, ``LocalRunner`` runs them side by side one per GPU, ``SlurmRunner`` submits them to Slurm.
``infer_config_text`` writes the ``infer`` / ``eval`` sections (the same as ``eval_configs/infer_multiworker.py`` /
``infer_slurm.py``) for a settings object; the OpenCompass runner appends it to the config it generates and drops
``--debug`` (which would run the tasks one after another in one process) when ``workers`` > 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

RUNNERS = ("local", "slurm")


@dataclass(frozen=True)
class EvalScaleSettings:
    """How one evaluation spreads: ``workers`` inference tasks per (model, dataset), run locally or on Slurm."""

    workers: int = 1
    runner: Literal["local", "slurm"] = "local"
    max_workers_per_gpu: int = 1
    slurm_partition: str = ""
    slurm_quotatype: str = ""
    slurm_retry: int = 2

    def __post_init__(self) -> None:
        if self.workers < 1 or self.max_workers_per_gpu < 1:
            raise ValueError(f"EvalScaleSettings: workers and max_workers_per_gpu must be >= 1, got "
                             f"{self.workers} / {self.max_workers_per_gpu}")
        if self.runner not in RUNNERS:
            raise ValueError(f"EvalScaleSettings.runner is {self.runner!r}, expected one of {RUNNERS}")
        if self.runner == "slurm" and not self.slurm_partition:
            raise ValueError("EvalScaleSettings.runner='slurm' needs slurm_partition")

    @property
    def parallel(self) -> bool:
        """True when OpenCompass must run its runner (no ``--debug``)."""
        return self.workers > 1 or self.runner == "slurm"


def infer_config_text(settings: EvalScaleSettings) -> str:
    """Python lines defining ``infer`` and ``eval`` for an OpenCompass config (imports included)."""
    if settings.runner == "local":
        runner = (f"dict(type=LocalRunner, max_num_workers={settings.workers}, "
                  f"max_workers_per_gpu={settings.max_workers_per_gpu}, task=dict(type=OpenICLInferTask))")
        eval_runner = "dict(type=LocalRunner, max_num_workers=16, task=dict(type=OpenICLEvalTask))"
        runner_import = "from opencompass.runners import LocalRunner"
    else:
        extra = f", quotatype={settings.slurm_quotatype!r}" if settings.slurm_quotatype else ""
        common = f"partition={settings.slurm_partition!r}{extra}, retry={settings.slurm_retry}"
        runner = (f"dict(type=SlurmRunner, {common}, max_num_workers={settings.workers}, "
                  "task=dict(type=OpenICLInferTask))")
        eval_runner = f"dict(type=SlurmRunner, {common}, max_num_workers=16, task=dict(type=OpenICLEvalTask))"
        runner_import = "from opencompass.runners import SlurmRunner"
    return "\n".join([
        "from opencompass.partitioners import NaivePartitioner, NumWorkerPartitioner",
        runner_import,
        "from opencompass.tasks import OpenICLEvalTask, OpenICLInferTask",
        f"infer = dict(partitioner=dict(type=NumWorkerPartitioner, num_worker={settings.workers}),",
        f"             runner={runner})",
        "eval = dict(partitioner=dict(type=NaivePartitioner),",
        f"            runner={eval_runner})",
        "",
    ])
