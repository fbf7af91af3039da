"""How ``llamafactory-cli train`` spreads over GPUs: LLaMA-Factory's own launch modes, composed, not reimplemented.

Three modes (LLaMA-Factory 0.9.5, ``llamafactory/launcher.py`` and ``train/tuner.py``):

``single``    one process on the visible device(s); ``FORCE_TORCHRUN`` and ``USE_RAY`` are cleared.
``torchrun``  ``FORCE_TORCHRUN=1``: the CLI re-launches itself under ``torchrun`` with ``NNODES``, ``NODE_RANK``,
              ``NPROC_PER_NODE``, ``MASTER_ADDR``, ``MASTER_PORT``. One node with 8 GPUs: ``nproc_per_node=8``;
              several nodes: the same command on each with its ``node_rank``. DeepSpeed needs this mode (the CLI
              refuses ``deepspeed`` outside a distributed launch).
``ray``       ``USE_RAY=1``: the CLI creates ``ray_num_workers`` Ray actors on the cluster (``ray_init_kwargs``
              ``{"address": ...}``) and trains with them. In 0.9.5 each worker's bundle is fixed by LLaMA-Factory at
              one accelerator + 10 CPUs (``trainer_utils.get_placement_group``); there is no ``resources_per_worker``
              key any more, so a worker's resources are not ours to set.

``deepspeed`` names one of ``training_configs/deepspeed/ds_z{2,3}_config.json`` (ZeRO-2: optimizer state and
gradients sharded, for models that fit one GPU's weights; ZeRO-3: parameters sharded too, for 7-8B full
fine-tuning on 8 x 80 GB as in MIG A.3) or a path. ``effective_batch_size`` fixes the batch of MIG A.3 (128)
across GPU counts: ``gradient_accumulation_steps = effective / (per_device_train_batch_size x world size)``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from resources.named_configs import named_config

REPO_ROOT = Path(__file__).resolve().parents[1]
DEEPSPEED_DIR = REPO_ROOT / "training_configs" / "deepspeed"
LAUNCH_MODES = ("single", "torchrun", "ray")
DEEPSPEED_PRESETS = {"z2": "ds_z2_config", "z3": "ds_z3_config"}
LAUNCH_ENV_KEYS = ("FORCE_TORCHRUN", "USE_RAY", "NNODES", "NODE_RANK", "NPROC_PER_NODE", "MASTER_ADDR",
                   "MASTER_PORT")


@dataclass(frozen=True)
class LaunchPlan:
    """One training run's launch: mode, process layout, DeepSpeed config and the batch to keep constant."""

    mode: Literal["single", "torchrun", "ray"] = "single"
    nproc_per_node: int = 1
    nnodes: int = 1
    node_rank: int = 0
    master_addr: str = ""
    master_port: int | None = None
    ray_num_workers: int = 1
    ray_address: str = ""
    deepspeed: str = ""
    effective_batch_size: int | None = None

    def __post_init__(self) -> None:
        if self.mode not in LAUNCH_MODES:
            raise ValueError(f"LaunchPlan.mode is {self.mode!r}, expected one of {LAUNCH_MODES}")
        for name in ("nproc_per_node", "nnodes", "ray_num_workers"):
            if getattr(self, name) < 1:
                raise ValueError(f"LaunchPlan.{name} must be >= 1, got {getattr(self, name)}")
        if not 0 <= self.node_rank < self.nnodes:
            raise ValueError(f"LaunchPlan.node_rank {self.node_rank} is outside 0..{self.nnodes - 1}")
        if self.deepspeed and self.mode == "single":
            raise ValueError("LaunchPlan: deepspeed needs mode 'torchrun' or 'ray' (LLaMA-Factory refuses DeepSpeed "
                             "outside a distributed launch)")

    @property
    def world_size(self) -> int:
        """Data-parallel processes: nnodes x nproc_per_node (torchrun), ray_num_workers (ray), else 1."""
        if self.mode == "torchrun":
            return self.nnodes * self.nproc_per_node
        if self.mode == "ray":
            return self.ray_num_workers
        return 1


def deepspeed_config_path(name: str) -> Path:
    """``z2`` / ``z3`` -> the bundled ZeRO config; any other value: a name in training_configs/deepspeed or a path."""
    return named_config(DEEPSPEED_PRESETS.get(name, name), DEEPSPEED_DIR, (".json",), "DeepSpeed config")


def launch_environment(plan: LaunchPlan, base_env: Mapping[str, str]) -> dict[str, str]:
    """``base_env`` with the launch variables of ``plan`` set and every other launch variable removed."""
    env = {k: v for k, v in base_env.items() if k not in LAUNCH_ENV_KEYS}
    if plan.mode == "torchrun":
        # LLaMA-Factory runs a bare ``torchrun``: the one beside this interpreter (the project venv) comes first.
        env["PATH"] = os.pathsep.join(p for p in (str(Path(sys.executable).parent), env.get("PATH", "")) if p)
        env.update(FORCE_TORCHRUN="1", NNODES=str(plan.nnodes), NODE_RANK=str(plan.node_rank),
                   NPROC_PER_NODE=str(plan.nproc_per_node))
        if plan.master_addr:
            env["MASTER_ADDR"] = plan.master_addr
        if plan.master_port is not None:
            env["MASTER_PORT"] = str(plan.master_port)
    elif plan.mode == "ray":
        env["USE_RAY"] = "1"
    return env


def launch_overrides(plan: LaunchPlan, recipe: Mapping[str, Any]) -> dict[str, Any]:
    """Recipe keys the launch sets: ``deepspeed``, Ray's ``ray_num_workers`` / ``ray_init_kwargs`` / master
    address, and ``gradient_accumulation_steps`` for ``effective_batch_size`` (ValueError when it does not divide)."""
    overrides: dict[str, Any] = {}
    if plan.deepspeed:
        overrides["deepspeed"] = str(deepspeed_config_path(plan.deepspeed))
    elif recipe.get("deepspeed"):  # a recipe's own config, relative to the repository root (the CLI runs elsewhere)
        if plan.mode == "single":
            raise ValueError(f"the recipe sets deepspeed: {recipe['deepspeed']}; launch it with mode 'torchrun' or "
                             "'ray' (LLaMA-Factory refuses DeepSpeed outside a distributed launch)")
        path = Path(str(recipe["deepspeed"]))
        overrides["deepspeed"] = str(path if path.is_absolute() else (REPO_ROOT / path).resolve())
    if plan.mode == "ray":
        overrides["ray_num_workers"] = plan.ray_num_workers
        if plan.ray_address:
            overrides["ray_init_kwargs"] = {"address": plan.ray_address}
        if plan.master_addr:
            overrides["master_addr"] = plan.master_addr
        if plan.master_port is not None:
            overrides["master_port"] = str(plan.master_port)
    if plan.effective_batch_size is not None:
        per_device = int(recipe.get("per_device_train_batch_size", 1))
        per_step = per_device * plan.world_size
        if plan.effective_batch_size % per_step:
            raise ValueError(f"effective batch {plan.effective_batch_size} is not a multiple of "
                             f"per_device_train_batch_size {per_device} x world size {plan.world_size}")
        overrides["gradient_accumulation_steps"] = plan.effective_batch_size // per_step
    return overrides
