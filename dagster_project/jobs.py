"""Jobs a user launches or backfills from the UI; one per partitions definition, since a Dagster asset job
materializes assets of one partitioning. The whole loop in order is ``dagster_project.run_loop``."""

from __future__ import annotations

from dagster import AssetSelection, define_asset_job

from dagster_project.constants import GROUP_ANNOTATION, GROUP_EVALUATION, GROUP_LABEL_GRAPH, GROUP_POOL, GROUP_REPORT
from dagster_project.grid import GridSpec


def build_jobs(grid: GridSpec) -> list:
    prepare = define_asset_job(
        "prepare_pool", AssetSelection.groups(GROUP_POOL, GROUP_ANNOTATION, GROUP_LABEL_GRAPH),
        description="Load the pool, annotate it and build the label graph.")
    select = define_asset_job(
        "select_grid", AssetSelection.assets("selection"),
        description="One selection per (selector, budget) partition; backfill for the whole grid.")
    base_models = define_asset_job(
        "prepare_base_models", AssetSelection.assets("base_model", "baseline_scores"),
        description="Resolve each base model (the embedded GGUF is converted once to an HF folder) and evaluate it "
                    "untuned (the baseline row of every report).")
    train_eval = define_asset_job(
        "train_and_evaluate",
        AssetSelection.assets("fine_tuned_model")
        | (AssetSelection.groups(GROUP_EVALUATION) - AssetSelection.assets("baseline_scores")),
        description="Fine-tune and evaluate one (selector, budget, base model) partition; backfill for the grid.")
    report = define_asset_job("report", AssetSelection.groups(GROUP_REPORT),
                              description="Correlate diversity metrics with benchmark scores over the study.")
    return [prepare, select, base_models, train_eval, report]
