"""Grid cells on a Ray cluster through dagster-ray's executor: each step is a Ray job that asks for its resources.

With ``$INFOSIFT_RAY_ADDRESS`` set (``auto`` or ``ray://head:10001``; see ``resources/ray_cluster.py``), the code
location's executor is ``dagster_ray.ray_executor``: Dagster's step-delegating executor, which submits every step
as a Ray job (``dagster api execute_step``) to the cluster's Jobs API. A step's Ray resources come from its op tag
``dagster-ray/config`` (``cell_op_tags``): GPUs per fine-tune, per evaluation (plus the judge when it runs inside the
evaluation step). Ray places each job on a node with the GPUs free and queues the rest; Dagster's concurrency pools
(declared on the assets) and the run queue bound how many cells are in flight, so a backfill of the grid from the UI
spreads over the cluster's GPUs without oversubscribing them.

The steps run on the cluster's nodes, so those nodes need the project installed (the same venv path or a Ray
``runtime_env``), the Dagster instance (``$DAGSTER_HOME``; on several nodes a Postgres-backed instance) and the
state folder (``$INFOSIFT_HOME``, on a shared filesystem). Without a Ray address nothing here imports Ray or
dagster-ray and the default executor runs every step in-process, as before.
"""

from __future__ import annotations

import json
import os
from typing import Any

from dagster import Definitions, ExecutorDefinition

from resources.ray_cluster import jobs_address_for, ray_address_from_env
from selection_ops.ray_session import LOCAL

RAY_CONFIG_TAG = "dagster-ray/config"  # dagster_ray.configs.USER_DEFINED_RAY_KEY, without importing dagster-ray
ENV_CELL_RESOURCES = "INFOSIFT_CELL_RESOURCES"
ENV_RAY_FORWARD_ENV = "INFOSIFT_RAY_FORWARD_ENV"
CELL_KINDS = ("selection", "fine_tune", "evaluation", "judge")
# What one cell reserves on the cluster. Fine-tune: one GPU (a LoRA or a small full fine-tune; a 7-8B full
# fine-tune as in MIG A.3 asks for 8 with LLaMA-Factory's DeepSpeed recipe). Evaluation: one GPU for the
# candidate model. Judge: 0 = a served endpoint outside the step; > 0 adds its GPUs to the evaluation step.
DEFAULT_CELL_RESOURCES: dict[str, dict[str, float]] = {
    "selection": {"num_cpus": 1, "num_gpus": 0},
    "fine_tune": {"num_cpus": 4, "num_gpus": 1},
    "evaluation": {"num_cpus": 2, "num_gpus": 1},
    "judge": {"num_cpus": 0, "num_gpus": 0},
}
# Environment a step needs on the cluster, forwarded from the process that launches it when set there.
FORWARDED_ENV = ("INFOSIFT_HOME", "INFOSIFT_DATA_DIR", "INFOSIFT_GRID", "INFOSIFT_RAY_ADDRESS",
                 "INFOSIFT_CELL_RESOURCES", "INFOSIFT_TRAIN_MAX_STEPS", "INFOSIFT_EVAL_SAMPLE_LIMIT",
                 "MLFLOW_TRACKING_URI", "HF_HOME", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE",
                 "TOKENIZERS_PARALLELISM")


def cell_resources(overrides: str | None = None) -> dict[str, dict[str, float]]:
    """``DEFAULT_CELL_RESOURCES`` updated by the JSON object ``overrides`` (default ``$INFOSIFT_CELL_RESOURCES``),
    e.g. ``{"fine_tune": {"num_gpus": 8}, "judge": {"num_gpus": 4}}``; ValueError names a bad kind or field."""
    text = os.environ.get(ENV_CELL_RESOURCES, "") if overrides is None else overrides
    merged = {kind: dict(values) for kind, values in DEFAULT_CELL_RESOURCES.items()}
    if not text.strip():
        return merged
    loaded = json.loads(text)
    if not isinstance(loaded, dict):
        raise ValueError(f"{ENV_CELL_RESOURCES} must be a JSON object, got {text!r}")
    for kind, values in loaded.items():
        if kind not in CELL_KINDS:
            raise ValueError(f"{ENV_CELL_RESOURCES}: unknown cell kind {kind!r}; expected one of {CELL_KINDS}")
        if not isinstance(values, dict) or set(values) - {"num_cpus", "num_gpus"}:
            raise ValueError(f"{ENV_CELL_RESOURCES}[{kind!r}] must be an object of num_cpus / num_gpus, "
                             f"got {values!r}")
        merged[kind].update({k: float(v) for k, v in values.items()})
    return merged


def cell_op_tags(kind: str, overrides: str | None = None) -> dict[str, str]:
    """The op tag with which a step asks dagster-ray's executor for its Ray resources (ignored by other executors).

    An evaluation step reserves the judge's GPUs too when the judge runs inside it (``judge.num_gpus`` > 0).
    """
    if kind not in CELL_KINDS:
        raise ValueError(f"unknown cell kind {kind!r}; expected one of {CELL_KINDS}")
    table = cell_resources(overrides)
    request = dict(table[kind])
    if kind == "evaluation":
        request = {k: request[k] + table["judge"][k] for k in request}
    return {RAY_CONFIG_TAG: json.dumps({k: v for k, v in request.items()}, sort_keys=True)}


def ray_step_executor(jobs_address: str | None, forward_env: list[str] | None = None) -> ExecutorDefinition:
    """dagster-ray's ``ray_executor`` bound to a cluster's Jobs API and the environment the steps need."""
    from dagster_ray import ray_executor

    names = list(forward_env if forward_env is not None else FORWARDED_ENV)
    extra = os.environ.get(ENV_RAY_FORWARD_ENV, "")
    names += [name for name in extra.split(",") if name.strip()]
    config: dict[str, Any] = {"ray": {"address": jobs_address, "env_vars": names}}
    return ray_executor.configured(config, name="infosift_ray_executor")


def grid_executor() -> ExecutorDefinition | None:
    """The Ray executor when ``$INFOSIFT_RAY_ADDRESS`` names a cluster; None (Dagster's default) otherwise.

    ``local`` starts a runtime for annotation only: a per-process runtime cannot take steps of other processes.
    """
    address = ray_address_from_env()
    if address in ("", LOCAL):
        return None
    return ray_step_executor(jobs_address_for(address, os.environ.get("INFOSIFT_RAY_JOBS_ADDRESS", "")))


def ray_definitions() -> Definitions:
    """The project's Definitions with the Ray executor; a no-argument entry for Dagster's code pointers."""
    from dagster_project.definitions import build_definitions

    executor = grid_executor()
    if executor is None:
        raise ValueError("set INFOSIFT_RAY_ADDRESS (auto or ray://head:10001) to run grid cells on Ray")
    return build_definitions(executor=executor)
