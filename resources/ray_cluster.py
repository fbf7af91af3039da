"""The Ray cluster as a setting: where annotation runs, and where grid cells are sent.

``ray_address`` (default: ``$INFOSIFT_RAY_ADDRESS``, else empty):

    ""                  in-process, as before; Ray is never imported (the embedded default)
    "local"             start a Ray runtime on this machine for the annotation step
    "auto"              the cluster this machine belongs to (``ray start --head`` or ``ray start --address`` ran here)
    "ray://head:10001"  a remote cluster through its head node's Ray Client server

Annotation (``annotate``) runs each annotator as a pool of actors (``selection_ops.annotation.ray_runner``). Grid
cells (fine-tune, evaluation) go to the cluster's Ray Jobs API through dagster-ray's executor
(``dagster_project.ray_execution``); each asks for its resources with the op tag of ``cell_op_tags``. The executor
needs ``jobs_address()``: ``dashboard_address`` when set, else derived from ``ray_address`` (``ray://head:10001`` ->
``http://head:8265``; ``auto`` -> Ray's own lookup).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import urlparse

import pandas as pd
from dagster import ConfigurableResource
from pydantic import Field

from selection_ops.annotation.config import AnnotationConfig
from selection_ops.annotation.ray_runner import ActorResources, RayAnnotationSettings
from selection_ops.ray_session import LOCAL, RaySessionSettings, ray_session, uses_ray

ENV_RAY_ADDRESS = "INFOSIFT_RAY_ADDRESS"
ENV_RAY_JOBS_ADDRESS = "INFOSIFT_RAY_JOBS_ADDRESS"
DEFAULT_DASHBOARD_PORT = 8265


RAY_CONFIG_TAG = "dagster-ray/config"  # dagster_ray.configs.USER_DEFINED_RAY_KEY, without importing dagster-ray
ENV_CELL_RESOURCES = "INFOSIFT_CELL_RESOURCES"
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


def ray_address_from_env() -> str:
    return os.environ.get(ENV_RAY_ADDRESS, "").strip()


def jobs_address_for(ray_address: str, dashboard_address: str = "") -> str | None:
    """The Ray Jobs API address (the dashboard's HTTP address) for a cluster address; None = Ray's own lookup.

    ``ray://head:10001`` -> ``http://head:8265``; ``head:6379`` -> ``http://head:8265``; ``auto`` -> None (Ray
    reads ``RAY_ADDRESS`` or finds the local head); ``local`` and ``""`` -> ValueError (no standing cluster).
    """
    if dashboard_address:
        return dashboard_address
    address = ray_address.strip()
    if address in ("", LOCAL):
        raise ValueError(f"ray_address {address!r} names no standing cluster: grid cells need one "
                         f"('auto', 'ray://head:10001', or set {ENV_RAY_JOBS_ADDRESS})")
    if address == "auto":
        return None
    host = urlparse(address if "://" in address else f"ray://{address}").hostname
    return f"http://{host}:{DEFAULT_DASHBOARD_PORT}"


class RayCluster(ConfigurableResource):
    """Where infosift's heavy steps run: in-process (empty ``ray_address``) or on a Ray cluster."""

    ray_address: str = Field(default_factory=ray_address_from_env, description=(
        "'' in-process (default; Ray is not imported), 'local' (start a Ray runtime here), 'auto' (the cluster "
        "this machine joined with `ray start`), or 'ray://head:10001'; default $INFOSIFT_RAY_ADDRESS"))
    dashboard_address: str = Field(default_factory=lambda: os.environ.get(ENV_RAY_JOBS_ADDRESS, ""), description=(
        "the Ray Jobs API (dashboard) address grid cells are submitted to, e.g. http://head:8265; empty = derived "
        "from ray_address; default $INFOSIFT_RAY_JOBS_ADDRESS"))
    local_num_cpus: int | None = Field(default=None, description="CPUs of a 'local' runtime (None = all)")
    local_num_gpus: int | None = Field(default=None, description="GPUs of a 'local' runtime (None = all visible)")
    local_object_store_mb: int | None = Field(default=None, description="object store of a 'local' runtime, MiB")
    annotation_actors: int = Field(default=2, description="actors per annotator (each loads its model once)")
    actor_num_cpus: float = Field(default=1.0, description="CPUs each annotation actor reserves")
    actor_num_gpus: float = Field(default=0.0, description=(
        "GPUs each annotation actor reserves (1 for model-based annotators on a GPU cluster; 0.5 packs two)"))
    per_annotator: dict[str, dict[str, float]] = Field(default_factory=dict, description=(
        "overrides by annotator name, e.g. {'deita_quality': {'actors': 8, 'num_gpus': 1}, "
        "'handcrafted': {'actors': 1, 'num_gpus': 0}}; names: embedding, tags, handcrafted, deita_*, ifd, reward"))
    max_restarts: int = Field(default=3, description=(
        "times Ray restarts a dead annotation actor (a killed worker process, a lost node), on any node with room; "
        "-1 = without limit"))
    max_task_retries: int = Field(default=3, description=(
        "times an annotation shard is resubmitted, to a live actor of its pool, after the actor holding it died; "
        "past that the step fails naming the shard. Shards already written are never computed again"))

    @property
    def enabled(self) -> bool:
        return uses_ray(self.ray_address)

    def session_settings(self) -> RaySessionSettings:
        return RaySessionSettings(ray_address=self.ray_address, num_cpus=self.local_num_cpus,
                                  num_gpus=self.local_num_gpus, object_store_mb=self.local_object_store_mb)

    def annotation_settings(self) -> RayAnnotationSettings:
        default = ActorResources(actors=self.annotation_actors, num_cpus=self.actor_num_cpus,
                                 num_gpus=self.actor_num_gpus)
        overrides = {}
        for name, values in self.per_annotator.items():
            unknown = set(values) - {"actors", "num_cpus", "num_gpus"}
            if unknown:
                raise ValueError(f"RayCluster.per_annotator[{name!r}]: unknown field(s) {sorted(unknown)}; "
                                 "expected actors, num_cpus, num_gpus")
            merged = {"actors": default.actors, "num_cpus": default.num_cpus, "num_gpus": default.num_gpus, **values}
            overrides[name] = ActorResources(actors=int(merged["actors"]), num_cpus=float(merged["num_cpus"]),
                                             num_gpus=float(merged["num_gpus"]))
        return RayAnnotationSettings(default=default, per_annotator=overrides, max_restarts=self.max_restarts,
                                     max_task_retries=self.max_task_retries)

    def jobs_address(self) -> str | None:
        return jobs_address_for(self.ray_address, self.dashboard_address)

    def annotate(self, pool: pd.DataFrame, config: AnnotationConfig, store_dir: Path) -> pd.DataFrame:
        """``selection_ops.annotation.pipeline.annotate`` in-process, or with every annotator on the cluster."""
        from selection_ops.annotation.pipeline import annotate

        if not self.enabled:
            return annotate(pool, config, store_dir)
        from selection_ops.annotation.ray_runner import ray_runner

        with ray_session(self.session_settings()):
            return annotate(pool, config, store_dir, runner=ray_runner(self.annotation_settings()))
