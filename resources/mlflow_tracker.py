"""MLflow tracking of a study, and the MLflow vocabulary (run kinds, tag names) in one place.

One experiment per study. Its runs form a tree (MLflow's ``mlflow.parentRunId`` tag):

    study run                      kind "study": the grid file, the study's settings
    +- selection run               kind "selection", one per (variant, budget, seed), trained or not: selector,
    |  |                           variant, budget, seed, every parameter, every diversity metric, the selection as a
    |  |                           dataset
    |  +- fine-tune run            kind "fine-tune", one per (selection, base model): recipe, loss curve, benchmark
    |                              scores, Avg_obj, a copy of the selection's diversity metrics, the selection's
    |                              ``seed``, the ``train_seed`` LLaMA-Factory ran with and the ``cell`` (the same for
    |                              every seed of one variant x budget x base model, so a report can pool the seeds)
    +- report run                  kind "correlation-report": correlations and their plots as images

Training and evaluation of one cell share one run (a child of its selection run): one row then holds everything the
report correlates (diversity metrics against Avg_obj), so MLflow's table and scatter chart compare selectors on one
screen. Each run is found again by its tags, so re-materializing a stage updates its run instead of adding one, and
every write ends the run FINISHED (or FAILED when the block raised), so no run stays "Running". A changed
definition (another parameter, other selected ids) gets a new run; the old one stays, tagged
``infosift.current = false``, so ``tags.infosift.current = 'true'`` filters the study's present state.
Metric names are stable: ``diversity.<metric>``, ``bench.<benchmark>``, ``avg_obj``, ``train.loss`` (per step, live
while the model trains), ``train.lr``.

Faults. The main job checks that the tracking store answers before any work (``check_reachable``: one line naming
the URI, within seconds). A server that goes away mid-run is retried (``MLFLOW_HTTP_REQUEST_MAX_RETRIES`` /
``_TIMEOUT`` default to 4 retries of at most 20 s here, about a minute in all, instead of MLflow's minutes); failing
that the step fails loudly and is not materialized, so the next run redoes it and writes its records then: records
are retried and then failed, not spooled. A run whose writer died (killed job, server gone) stays RUNNING in the store
until the next main job ends it FAILED with a note (``fail_running``), before it does anything else.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from dagster import ConfigurableResource
from mlflow.entities import Metric, RunStatus
from mlflow.tracking import MlflowClient
from pydantic import Field

from selection_ops.foundation.paths import dagster_ui_url, default_tracking_uri, mlflow_ui_url, state_dir
from selection_ops.foundation.secrets import redact

logger = logging.getLogger(__name__)
# bounded retries against an HTTP tracking server (MLflow's own defaults retry for minutes); a user's setting wins
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "4")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "2")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "20")
NOTE_TAG = "infosift.note"
_writing: set[str] = set()  # MLflow runs this process has marked RUNNING and not yet ended


class TrackerUnreachable(RuntimeError):
    """The MLflow tracking store does not answer."""


# --- vocabulary ----------------------------------------------------------------------------------------------------
KIND_TAG = "infosift.kind"
PARTITION_TAG = "infosift.partition"
STUDY_TAG = "infosift.study"
VERSION_TAG = "infosift.version"
CURRENT_TAG = "infosift.current"
DAGSTER_RUN_TAG = "dagster.run_id"
DAGSTER_PARTITION_TAG = "dagster.partition"
PARENT_TAG = "mlflow.parentRunId"
DESCRIPTION_TAG = "mlflow.note.content"  # the run's (and experiment's) description, shown as Markdown by the UI
# the experiment tag the MLflow UI (3.x) reads to open an experiment in its classic machine-learning view, not GenAI's
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
EXPERIMENT_KIND_ML = "custom_model_development"
# A view the MLflow UI opens from a URL (``?viewStateShareKey=<key>``), stored as the experiment tag
# ``mlflow.sharedViewState.<key>``: the JSON its "Share" button writes (its search facets and runs-table state; the
# UI reads plain JSON as well as its compressed form).
COMPARISON_VIEW_KEY = "infosift-comparison"
ML_WORKFLOW = "machine_learning"  # the UI's ?workflowType= for its "Model training" mode (a browser's default: GenAI)
COMPARISON_VIEW_TAG = f"mlflow.sharedViewState.{COMPARISON_VIEW_KEY}"
COMPARISON_VIEW = {
    "searchFilter": f"tags.`{CURRENT_TAG}` = 'true'", "orderByKey": "attributes.start_time", "orderByAsc": False,
    "groupBy": {"aggregateFunction": "average", "groupByKeys": [{"mode": "tag", "groupByData": KIND_TAG}]},
}
KIND_STUDY = "study"
KIND_SELECTION = "selection"
KIND_FINE_TUNE = "fine-tune"
KIND_REPORT = "correlation-report"
KIND_BASELINE = "baseline"
KIND_POOL_ROW = "pool-row"  # the full-pool fine-tune (MIG Table 1's "Pool" row)
DIVERSITY_PREFIX = "diversity."
AVG_OBJ = "avg_obj"
TRAIN_LOSS = "train.loss"  # per step, logged live while LLaMA-Factory trains
TRAIN_LR = "train.lr"
QUESTIONS_DIR = "questions"  # per-question score tables of a run: questions/objective.json, questions/preference.json
# params (and tags, to search by) of the seeds axis: the selection's seed, the fine-tune's LLaMA-Factory seed, and
# the cell a run repeats (``mig__b32__smollm2-135m`` for every seed of it)
SEED = "seed"
TRAIN_SEED = "train_seed"
CELL = "cell"


class MlflowTracker(ConfigurableResource):
    """Where runs go. Default: a real SQLite store and artifact folder under the state folder."""

    tracking_uri: str = Field(default_factory=default_tracking_uri,
                              description="Any MLflow tracking URI; default sqlite:///<state>/mlflow.db")
    artifact_root: str = Field(default_factory=lambda: str(state_dir() / "mlartifacts"),
                               description="Artifact location for experiments this resource creates")
    ui_url: str = Field(default_factory=mlflow_ui_url,
                        description="Base URL of `mlflow ui`, for links in Dagster (default $INFOSIFT_MLFLOW_URL, "
                                    "else mlflow ui's http://127.0.0.1:5000; the main job prints the command "
                                    "that serves it there)")
    dagster_url: str = Field(default_factory=dagster_ui_url,
                             description="Base URL of the Dagster UI, for links in each run's description "
                                         "(default $INFOSIFT_DAGSTER_URL, else dagster dev's http://127.0.0.1:3000)")

    def client(self) -> MlflowClient:
        return MlflowClient(tracking_uri=self.tracking_uri)

    def check_reachable(self, timeout_s: float = 5.0) -> None:
        """Raise TrackerUnreachable (one line naming the URI) unless the store answers within ``timeout_s``: an HTTP
        server's ``/health``, a SQLite file's folder being writable; other schemes are left to MLflow."""
        uri = self.tracking_uri
        if uri.startswith(("http://", "https://")):
            try:
                with urllib.request.urlopen(uri.rstrip("/") + "/health", timeout=timeout_s) as response:
                    response.read(64)
            except urllib.error.HTTPError as error:
                if error.code >= 500:
                    raise TrackerUnreachable(f"MLflow tracking server {uri} answered {error.code}") from None
            except (urllib.error.URLError, OSError, socket.timeout) as error:
                reason = getattr(error, "reason", error)
                raise TrackerUnreachable(f"MLflow tracking server {uri} is not reachable ({reason}); start it or "
                                         "set MLFLOW_TRACKING_URI") from None
        elif uri.startswith("sqlite:///"):
            folder = Path(uri.removeprefix("sqlite:///")).parent
            if not os.access(folder if folder.exists() else folder.parent, os.W_OK):
                raise TrackerUnreachable(f"MLflow tracking store {uri}: folder {folder} is not writable")

    def fail_running(self, study: str, note: str) -> list[str]:
        """End every run of ``study`` still RUNNING as FAILED with ``note`` (tag ``infosift.note``); the names.
        Called only by a job that holds the study lock: no live writer can own such a run."""
        client = self.client()
        experiment = client.get_experiment_by_name(study)
        if experiment is None:
            return []
        names = []
        for run in client.search_runs([experiment.experiment_id], filter_string="attributes.status = 'RUNNING'"):
            client.set_tag(run.info.run_id, NOTE_TAG, note)
            client.set_terminated(run.info.run_id, status="FAILED")
            names.append(run.info.run_name or run.info.run_id)
        return names

    def fail_writing(self, note: str) -> list[str]:
        """End the runs this process is writing (``writing`` blocks not yet left) as FAILED with ``note``: for a
        job told to stop. A store that does not answer is logged, not raised (the next job ends them)."""
        ended = []
        for run_id in list(_writing):
            try:
                self.client().set_tag(run_id, NOTE_TAG, note)
                self.finish(run_id, "FAILED")
                ended.append(run_id)
            except Exception as error:  # noqa: BLE001 - stopping; the next main job ends it FAILED
                logger.warning("MLflow run %s not ended (%s); the next main job ends it FAILED", run_id, error)
            _writing.discard(run_id)
        return ended

    def experiment_id(self, study: str) -> str:
        """The study's experiment (created once), tagged for the classic ML view and with the saved comparison view
        (``comparison_url``); an experiment from before a tag gets it."""
        client = self.client()
        experiment = client.get_experiment_by_name(study)
        tags = {EXPERIMENT_KIND_TAG: EXPERIMENT_KIND_ML, COMPARISON_VIEW_TAG: json.dumps(COMPARISON_VIEW),
                DESCRIPTION_TAG: f"infosift study `{study}`: a run per selection, a child run per fine-tune of it "
                                 f"(filter `tags.{KIND_TAG} = 'fine-tune'`), the study run and its correlation "
                                 f"report. Open `?viewStateShareKey={COMPARISON_VIEW_KEY}` for the current runs "
                                 "grouped by kind."}
        if experiment is not None:
            for key, value in tags.items():
                if experiment.tags.get(key) != value:
                    client.set_experiment_tag(experiment.experiment_id, key, value)
            return experiment.experiment_id
        location = Path(self.artifact_root) / study
        return client.create_experiment(study, artifact_location=location.resolve().as_uri(), tags=tags)

    def comparison_url(self, study: str) -> str:
        """The MLflow UI on the study's saved view: current runs only (``infosift.current = 'true'``), grouped by
        kind (study, selection, fine-tune, baseline, report), newest first."""
        return (f"{self.ui_url.rstrip('/')}/#/experiments/{self.experiment_id(study)}/runs?"
                f"workflowType={ML_WORKFLOW}&viewStateShareKey={COMPARISON_VIEW_KEY}")

    def run_url(self, study: str, run_id: str, tab: str = "") -> str:
        """The run's page (``tab``: ``model-metrics``, ``artifacts/<path>``, ...) in the UI's Model training mode."""
        page = f"{self.ui_url.rstrip('/')}/#/experiments/{self.experiment_id(study)}/runs/{run_id}"
        return f"{page}/{tab.strip('/')}?workflowType={ML_WORKFLOW}" if tab else f"{page}?workflowType={ML_WORKFLOW}"

    def description(self, *, study: str, kind: str, partition: str, grid_file: str = "", asset: str = "",
                    dagster_run_id: str = "") -> str:
        """A run's description (Markdown): its kind and cell, the study and grid file, and links to the Dagster
        asset (``asset``: its key's path, ``model/fine_tuned_model``) and run that last wrote it."""
        base = self.dagster_url.rstrip("/")
        text = f"infosift **{kind}** run `{partition}` of study `{study}`"
        text += f", grid file `{grid_file}`." if grid_file else "."
        links = []
        if asset:
            links.append(f"[asset {asset}]({base}/assets/{asset})")
        if dagster_run_id:
            links.append(f"[run {dagster_run_id[:8]}]({base}/runs/{dagster_run_id})")
        if links:
            text += "\n\nDagster: " + " · ".join(links)
        return text

    def find_runs(self, *, study: str, kind: str, partition: str | None = None, version: str | None = None,
                  current_only: bool = False) -> list:
        """Runs of ``kind`` (and ``partition`` / ``version`` when given), newest first."""
        clauses = [f"tags.`{KIND_TAG}` = '{kind}'"]
        if partition is not None:
            clauses.append(f"tags.`{PARTITION_TAG}` = '{partition}'")
        if version is not None:
            clauses.append(f"tags.`{VERSION_TAG}` = '{version}'")
        if current_only:
            clauses.append(f"tags.`{CURRENT_TAG}` = 'true'")
        return self.client().search_runs([self.experiment_id(study)], filter_string=" and ".join(clauses),
                                         order_by=["attributes.start_time DESC"])

    def run_for(self, *, study: str, partition: str, kind: str, tags: Mapping[str, str],
                parent_run_id: str | None = None, run_name: str | None = None, version: str = "",
                grid_file: str = "", asset: str = "") -> str:
        """The id of the run of this partition, kind and ``version`` (created when there is none), with ``tags``
        and its ``description`` (naming ``grid_file`` and linking the Dagster ``asset`` and the run in ``tags``).

        ``version`` is a fingerprint of what defines the run (a selection's spec and ids, a fine-tune's inputs):
        MLflow params are immutable, so a changed definition gets a new run, tagged ``infosift.current = true``,
        and the partition's earlier runs are kept for the record with ``infosift.current = false``.
        """
        client = self.client()
        found = self.find_runs(study=study, kind=kind, partition=partition, version=version)
        run_id = found[0].info.run_id if found else None
        if run_id is None:
            for older in self.find_runs(study=study, kind=kind, partition=partition):
                client.set_tag(older.info.run_id, CURRENT_TAG, "false")
            base = {PARTITION_TAG: partition, KIND_TAG: kind, STUDY_TAG: study, VERSION_TAG: version,
                    CURRENT_TAG: "true"}
            if parent_run_id:
                base[PARENT_TAG] = parent_run_id
            run_id = client.create_run(self.experiment_id(study), run_name=run_name or partition,
                                       tags=base).info.run_id
            self.finish(run_id)
        client.set_tag(run_id, CURRENT_TAG, "true")
        for key, value in tags.items():
            client.set_tag(run_id, key, str(value))
        client.set_tag(run_id, DESCRIPTION_TAG, self.description(
            study=study, kind=kind, partition=partition, grid_file=grid_file, asset=asset,
            dagster_run_id=str(tags.get(DAGSTER_RUN_TAG, ""))))
        return run_id

    def study_run(self, study: str, tags: Mapping[str, str] | None = None, grid_file: str = "") -> str:
        """The study's parent run (created once; left FINISHED)."""
        run_id = self.run_for(study=study, partition=study, kind=KIND_STUDY, tags=dict(tags or {}),
                              run_name=f"study {study}", grid_file=grid_file)
        self.finish(run_id)
        return run_id

    def finish(self, run_id: str, status: str = "FINISHED") -> None:
        """End the run with ``status`` (FINISHED or FAILED) and the current time as its end time; a run already
        ended with ``status`` keeps its end time (finding a run again is no work done in it, so its duration stays
        what it was)."""
        client = self.client()
        info = client.get_run(run_id).info
        if info.status == status and info.end_time:
            return
        client.set_terminated(run_id, status=status)

    @contextlib.contextmanager
    def writing(self, run_id: str) -> Iterator[str]:
        """Mark the run RUNNING while the block writes to it; FINISHED after, FAILED when the block raises (or, when
        the job is told to stop meanwhile, ``fail_writing``)."""
        client = self.client()
        client.update_run(run_id, status=RunStatus.to_string(RunStatus.RUNNING))
        _writing.add(run_id)
        try:
            yield run_id
        except BaseException as failure:
            try:
                self.finish(run_id, "FAILED")
            except Exception as error:  # noqa: BLE001 - the step's own error is the one to raise
                logger.warning("MLflow run %s not ended FAILED (%s) after: %s; the next main job ends it", run_id,
                               error, failure)
            raise
        finally:
            _writing.discard(run_id)
        self.finish(run_id, "FINISHED")

    def log_step(self, run_id: str, step: int, metrics: Mapping[str, float | None]) -> None:
        """Finite ``metrics`` at ``step`` in one call (a live curve: a fine-tune's ``train.loss`` as it trains)."""
        stamp = int(time.time() * 1000)
        batch = [Metric(key, float(value), stamp, int(step)) for key, value in metrics.items()
                 if value is not None and math.isfinite(float(value))]
        if batch:
            self.client().log_batch(run_id, metrics=batch)

    def log(self, run_id: str, *, params: Mapping[str, Any] | None = None,
            metrics: Mapping[str, float] | None = None,
            step_metrics: Mapping[str, list[tuple[int, float]]] | None = None,
            artifacts: Mapping[str, Path] | None = None, texts: Mapping[str, str] | None = None,
            images: Mapping[str, Path] | None = None, tables: Mapping[str, Any] | None = None) -> None:
        """Params (stringified; an existing param is never overwritten with a different value), finite metrics,
        per-step metric histories, files (artifact dir -> path), small text artifacts (file name -> content) and
        images (artifact file -> PNG path, shown inline by the MLflow UI), tables (artifact file ``*.json`` ->
        DataFrame: MLflow's ``log_table``, shown as a table by the MLflow UI). Params named like credentials
        (``foundation.secrets``) are logged as ``***``."""
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
        for artifact_file, path in (images or {}).items():
            from PIL import Image

            with Image.open(path) as image:
                client.log_image(run_id, image.copy(), artifact_file=artifact_file)
        for artifact_file, frame in (tables or {}).items():
            client.log_table(run_id, data=frame, artifact_file=artifact_file)

    def log_questions(self, run_id: str, half: str, questions: Sequence[Any]) -> None:
        """A run's per-question scores (``QuestionScore`` rows of one evaluation half) as the MLflow table
        ``questions/<half>.json``; the report reads every run's tables back (``questions_of``)."""
        from selection_ops.evaluation.questions import question_frame

        frame = question_frame("", questions).drop(columns=["run"])
        self.log(run_id, tables={f"{QUESTIONS_DIR}/{half}.json": frame})

    def questions_of(self, runs: Mapping[str, str]) -> Any:
        """The per-question tables of ``runs`` (MLflow run id -> the report's run name), concatenated with a ``run``
        column (``selection_ops.evaluation.questions.QUESTION_COLUMNS`` + ``cluster``); runs without tables add
        nothing (evaluated before per-question records existed)."""
        import tempfile

        import pandas as pd

        client = self.client()
        frames = []
        with tempfile.TemporaryDirectory() as scratch:
            for run_id, name in runs.items():
                listed = [a.path for a in client.list_artifacts(run_id, QUESTIONS_DIR) if a.path.endswith(".json")]
                for artifact in listed:
                    local = client.download_artifacts(run_id, artifact, scratch)
                    table = json.loads(Path(local).read_text(encoding="utf-8"))
                    frame = pd.DataFrame(table["data"], columns=table["columns"])
                    frames.append(frame.assign(run=name))
        if not frames:
            return pd.DataFrame(columns=["run", "benchmark", "question", "score", "cluster"])
        frame = pd.concat(frames, ignore_index=True)
        return frame[["run", *[c for c in frame.columns if c != "run"]]]

    def log_selection_input(self, run_id: str, *, frame: Any, name: str, source: str, digest: str) -> None:
        """The selection as an MLflow dataset input: ``frame`` (pandas, one row per selected sample), its source
        (the pool) and its digest (the hash of the selected ids), so MLflow shows which data each run used."""
        import mlflow.data
        from mlflow.entities import DatasetInput, InputTag

        dataset = mlflow.data.from_pandas(frame, source=source, name=name, digest=digest)
        entity = DatasetInput(dataset=dataset._to_mlflow_entity(),
                              tags=[InputTag(key="mlflow.data.context", value="selection")])
        self.client().log_inputs(run_id, datasets=[entity])
