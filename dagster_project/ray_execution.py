"""Grid cells on a Ray cluster through dagster-ray's executor: each step is a Ray job that asks for its resources.

With ``$INFOSIFT_RAY_ADDRESS`` set (``auto`` or ``ray://head:10001``; see ``resources/ray_cluster.py``), the code
location's executor is ``dagster_ray.ray_executor``: Dagster's step-delegating executor, which submits every step as
a Ray job (``dagster api execute_step``) to the cluster's Jobs API. A step's Ray resources come from its op tag
``dagster-ray/config`` (``resources.ray_cluster.cell_op_tags``): GPUs per fine-tune, per evaluation (plus the judge
when it runs inside the evaluation step). Ray places each job on a node with the GPUs free and queues the rest;
Dagster's concurrency pools (declared on the assets) and the run queue bound how many cells are in flight, so a
backfill of the grid from the UI spreads over the cluster's GPUs without oversubscribing them.

The steps run on the cluster's nodes, so those nodes need the project installed (the same venv path or a Ray
``runtime_env``), the Dagster instance (``$DAGSTER_HOME``; on several nodes a Postgres-backed instance) and the
state folder (``$INFOSIFT_HOME``, on a shared filesystem). Without a Ray address nothing here imports Ray or
dagster-ray and the default executor runs every step in-process, as before.

A lost node: Ray does not retry a Ray job; the job of a step that ran there ends FAILED ("Job supervisor actor
died ... its node has died"), the executor's health check (every 20 s) sees it, and Dagster either submits the step
again as a new Ray job (``dagster-step-...-1``, on any node with room) when the step has a ``RetryPolicy`` (the
executor's ``retries`` are enabled below), or fails the step, which the main job's resume then runs again while
finished cells are skipped (``tests/ray/test_node_loss.py``).
"""

from __future__ import annotations

import os
from typing import Any

from dagster import Definitions, ExecutorDefinition

from resources.ray_cluster import jobs_address_for, ray_address_from_env
from selection_ops.ray_session import LOCAL

ENV_RAY_FORWARD_ENV = "INFOSIFT_RAY_FORWARD_ENV"
# Environment a step needs on the cluster, forwarded from the process that launches it when set there.
FORWARDED_ENV = ("INFOSIFT_HOME", "INFOSIFT_DATA_DIR", "INFOSIFT_GRID", "INFOSIFT_RAY_ADDRESS",
                 "INFOSIFT_CELL_RESOURCES", "MLFLOW_TRACKING_URI", "HF_HOME", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE",
                 "HF_DATASETS_OFFLINE", "TOKENIZERS_PARALLELISM")


def ray_step_executor(jobs_address: str | None, forward_env: list[str] | None = None) -> ExecutorDefinition:
    """dagster-ray's ``ray_executor`` bound to a cluster's Jobs API and the environment the steps need."""
    from dagster_ray import ray_executor

    names = list(forward_env if forward_env is not None else FORWARDED_ENV)
    extra = os.environ.get(ENV_RAY_FORWARD_ENV, "")
    names += [name for name in extra.split(",") if name.strip()]
    # retries enabled (Dagster's default, explicit here): a step with a RetryPolicy whose Ray job died with its node
    # is submitted again as a new Ray job.
    config: dict[str, Any] = {"ray": {"address": jobs_address, "env_vars": names}, "retries": {"enabled": {}}}
    return ray_executor.configured(config, name="infosift_ray_executor")


def grid_executor() -> ExecutorDefinition | None:
    """The Ray executor when ``$INFOSIFT_RAY_ADDRESS`` names a cluster; None (Dagster's default) otherwise.

    ``local`` starts a runtime for annotation only: a per-process runtime cannot take steps of other processes.
    """
    address = ray_address_from_env()
    if address in ("", LOCAL):
        return None
    return ray_step_executor(jobs_address_for(address, os.environ.get("INFOSIFT_RAY_JOBS_ADDRESS", "")))


def ray_executor_for(cluster) -> ExecutorDefinition:
    """The Ray executor for a study whose grid sets ``execution.executor: ray`` (``cluster``: its RayCluster)."""
    return ray_step_executor(jobs_address_for(cluster.ray_address, cluster.dashboard_address))


def ray_definitions() -> Definitions:
    """The project's Definitions with the Ray executor; a no-argument entry for Dagster's code pointers."""
    from dagster_project.definitions import build_definitions

    executor = grid_executor()
    if executor is None:
        raise ValueError("set INFOSIFT_RAY_ADDRESS (auto or ray://head:10001) to run grid cells on Ray")
    return build_definitions(executor=executor)


def ray_job(name: str):
    """One job of ``ray_definitions()`` by name: the function ``dagster.build_reconstructable_job`` points a step's
    process at, so a run launched from Python rebuilds the same job in each Ray job."""
    return ray_definitions().resolve_job_def(name)
