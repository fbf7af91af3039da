"""Where a study's files live: the one owner of the on-disk layout. No asset composes a path itself.

    <home>/studies/<study>/
        study.lock                       one writer per study: the main job holds it exclusively for its life
                                         (and records who it is); a step of a UI-launched run holds it shared
        dagster/                         the study's Dagster instance (DAGSTER_HOME; dagster.yaml with the pools)
        storage/parquet/, storage/values/ asset values (Parquet tables, pickles) by asset key and partition
        annotation_shards/<fingerprint>/ resumable annotation shards of one (pool, annotation settings) pair
        label_graph/<fingerprint>/       the edge list of one label graph
        selections/<selection>/<ids digest>.jsonl
        models/base/<model>/<fingerprint>/
        models/fine_tuned/<cell>/<fingerprint>/
        evaluations/<cell>/<fingerprint>/
        reports/
    <home>/mlflow.db, <home>/mlartifacts/   the MLflow store: one experiment per study

Every folder below a stage is keyed by a fingerprint of what produced it (a hash of its inputs' content and its
settings), so two studies, or one study with a changed setting, never reuse each other's results, and identical
inputs find their earlier result. ``home`` defaults to ``$INFOSIFT_HOME`` (``selection_ops.foundation.paths``).

One writer per study: every step that uses the layout (every stage that writes into the study's folders) holds the
study lock shared while it runs (``yield_for_execution``), so a run launched from the Dagster UI while the main job
holds it exclusively waits, with a log line a minute naming the main job, instead of writing the same folders; in
the main job's own process the shared hold is a no-op. Two studies have two locks and never wait on each other.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dagster import ConfigurableResource, InitResourceContext
from pydantic import Field

from selection_ops.foundation import file_lock
from selection_ops.foundation.paths import state_dir


class StudyLayout(ConfigurableResource):
    """The folders of one study under one home; tests point ``home`` at a temporary folder."""

    study: str = Field(description="the study's slug (the grid's `study`)")
    home: str = Field(default_factory=lambda: str(state_dir()), description="the state folder ($INFOSIFT_HOME)")

    @property
    def root(self) -> Path:
        return Path(self.home) / "studies" / self.study

    def _dir(self, *parts: str) -> Path:
        path = self.root.joinpath(*parts)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def lock_path(self) -> Path:
        """The study lock (``selection_ops.foundation.file_lock``): the main job's for its life."""
        self.root.mkdir(parents=True, exist_ok=True)
        return self.root / "study.lock"

    @contextmanager
    def yield_for_execution(self, context: InitResourceContext) -> Iterator[StudyLayout]:
        """Hold the study lock shared while a step that writes the study runs (a no-op in the main job itself)."""
        def waiting(holder: str, waited_s: float) -> None:
            context.log.warning(f"study {self.study!r} is being written by its main job ({holder}); this step "
                                f"waits for it ({waited_s / 60:.0f} min so far)")

        with file_lock.shared(self.lock_path(), on_wait=waiting):
            yield self

    def dagster_home(self) -> Path:
        return self._dir("dagster")

    def parquet_dir(self) -> Path:
        """Where the Parquet IO manager keeps DataFrame assets (``<asset key>.parquet``)."""
        return self._dir("storage", "parquet")

    def values_dir(self) -> Path:
        """Where the filesystem IO manager keeps the other asset values (pickles)."""
        return self._dir("storage", "values")

    def pool_table(self) -> Path:
        return self.parquet_dir() / "pool.parquet"

    def annotation_shards(self, fingerprint: str) -> Path:
        return self._dir("annotation_shards", fingerprint)

    def label_graph_edges(self, fingerprint: str) -> Path:
        return self._dir("label_graph", fingerprint) / "edges.csv"

    def selection_ids(self, selection: str, ids_digest: str) -> Path:
        return self._dir("selections", selection) / f"{ids_digest}.jsonl"

    def base_model_dir(self, model: str, fingerprint: str) -> Path:
        return self._dir("models", "base", model) / fingerprint

    def fine_tuned_dir(self, cell: str, fingerprint: str) -> Path:
        return self._dir("models", "fine_tuned", cell) / fingerprint

    def evaluation_dir(self, cell: str, fingerprint: str) -> Path:
        return self._dir("evaluations", cell, fingerprint)

    def report_dir(self) -> Path:
        return self._dir("reports")

    def run_log(self) -> Path:
        """The main job's DEBUG log (Dagster's event stream), beside the instance."""
        return self._dir("logs") / "run_loop.log"
