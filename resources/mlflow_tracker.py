"""MLflow tracking: one experiment per study, one run per (selection, base model), found again by its tags.

Training opens the run; evaluation and the diversity measurements write into the same run, found by the
``infosift.partition`` tag, so re-materializing one stage updates the run instead of scattering new ones.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import mlflow
from dagster import ConfigurableResource
from mlflow.tracking import MlflowClient
from pydantic import Field

from selection_ops.foundation.paths import default_tracking_uri, state_dir
from selection_ops.foundation.secrets import redact

PARTITION_TAG = "infosift.partition"
DAGSTER_RUN_TAG = "dagster.run_id"
KIND_TAG = "infosift.kind"


class MlflowTracker(ConfigurableResource):
    """Where runs go. Default: a real SQLite store and artifact folder under the state folder."""

    tracking_uri: str = Field(default_factory=default_tracking_uri,
                              description="Any MLflow tracking URI; default sqlite:///<state>/mlflow.db")
    artifact_root: str = Field(default_factory=lambda: str(state_dir() / "mlartifacts"),
                               description="Artifact location for experiments this resource creates")

    def client(self) -> MlflowClient:
        return MlflowClient(tracking_uri=self.tracking_uri)

    def experiment_id(self, study: str) -> str:
        client = self.client()
        experiment = client.get_experiment_by_name(study)
        if experiment is not None:
            return experiment.experiment_id
        location = Path(self.artifact_root) / study
        return client.create_experiment(study, artifact_location=location.resolve().as_uri())

    def run_for(self, *, study: str, partition: str, kind: str, tags: Mapping[str, str]) -> str:
        """The id of the run tagged with this partition and kind, created when there is none."""
        client = self.client()
        experiment_id = self.experiment_id(study)
        found = client.search_runs([experiment_id],
                                   filter_string=f"tags.`{PARTITION_TAG}` = '{partition}' and "
                                                 f"tags.`{KIND_TAG}` = '{kind}'",
                                   max_results=1)
        if found:
            run_id = found[0].info.run_id
        else:
            run_id = client.create_run(experiment_id, run_name=partition,
                                       tags={PARTITION_TAG: partition, KIND_TAG: kind}).info.run_id
        for key, value in tags.items():
            client.set_tag(run_id, key, value)
        return run_id

    def log(self, run_id: str, *, params: Mapping[str, Any] | None = None,
            metrics: Mapping[str, float] | None = None,
            step_metrics: Mapping[str, list[tuple[int, float]]] | None = None,
            artifacts: Mapping[str, Path] | None = None, texts: Mapping[str, str] | None = None) -> None:
        """Params (stringified; an existing param is never overwritten with a different value), finite metrics,
        per-step metric histories, files (artifact dir -> path) and small text artifacts (file name -> content).
        Params named like credentials (``foundation.secrets``) are logged as ``***``."""
        client = self.client()
        existing = client.get_run(run_id).data.params
        for key, value in redact(dict(params or {})).items():
            text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
            text = text[:6000]
            if key in existing:
                if existing[key] != text:
                    raise ValueError(f"MLflow run {run_id}: param {key!r} is {existing[key]!r}, not {text!r}; "
                                     "a changed setting belongs in a new partition or study")
                continue
            client.log_param(run_id, key, text)
        for key, value in (metrics or {}).items():
            if value is not None and math.isfinite(float(value)):
                client.log_metric(run_id, key, float(value))
        for key, history in (step_metrics or {}).items():
            for step, value in history:
                if math.isfinite(float(value)):
                    client.log_metric(run_id, key, float(value), step=int(step))
        for artifact_dir, path in (artifacts or {}).items():
            path = Path(path)
            if path.is_dir():
                client.log_artifacts(run_id, str(path), artifact_path=artifact_dir)
            else:
                client.log_artifact(run_id, str(path), artifact_path=artifact_dir)
        for name, content in (texts or {}).items():
            client.log_text(run_id, content, name)


def set_global_tracking(uri: str) -> None:
    """Point the fluent ``mlflow`` API at ``uri`` too (for code that uses ``mlflow.log_*`` directly)."""
    mlflow.set_tracking_uri(uri)
