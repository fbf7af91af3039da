"""Jobs a user launches or backfills from the UI, and the main job runs by the same names and tags.

A Dagster asset job materializes assets of one partitioning, so the jobs follow the grid's shape: the unpartitioned
preparation, the base models, the grid matrix (selection -> training -> evaluation, variant x budget: backfill a
row, a column or all of it), and the report (it also updates itself, declaratively, after any evaluation).

The report's automation sensor, ``report_follows_grid``, is on by default: ``dagster dev``'s daemon evaluates the
report's automation condition (``assets.reporting.report_condition``) every 30 s and materializes the report after
any cell's scores change. It targets only the report; the training and evaluation assets' ``eager()`` conditions
are evaluated by Dagster's default automation sensor, off unless turned on (*Automation* page), so nothing is trained
that a user did not launch.
"""

from __future__ import annotations

from dagster import (
    AssetSelection,
    AutomationConditionSensorDefinition,
    DefaultSensorStatus,
    RetryPolicy,
    define_asset_job,
)

from assets.constants import (
    ACCELERATOR_RUN_TAG,
    GRID_RUN_TAG,
    GROUP_ANNOTATION,
    GROUP_LABEL_GRAPH,
    GROUP_POOL,
    GROUP_REPORT,
    JOB_POOL_ROW,
    JOB_PREPARE,
    JOB_REPORT,
    JOB_SELECT,
    JOB_STUDY_GRID,
    STUDY_RUN_TAG,
)
from assets.evaluation import benchmark_scores_key
from assets.pool_row import pool_row_keys
from assets.preference import baseline_scores_key, preference_scores_key
from assets.training import base_model_key, fine_tuned_key
from selection_ops.study.grid import GridSpec

JOB_BASE_MODELS = "prepare_base_models"
JOB_TRAIN = "train_and_evaluate"
REPORT_SENSOR = "report_follows_grid"
REPORT_SENSOR_INTERVAL_S = 30


def study_tags(grid: GridSpec) -> dict[str, str]:
    return {STUDY_RUN_TAG: grid.study, GRID_RUN_TAG: str(grid.source_path)}


def build_jobs(grid: GridSpec, retry: RetryPolicy | None = None) -> list:
    """The study's jobs. ``retry``: the step retry policy (set for the Ray executor, where a lost node fails a step
    that a retry reruns elsewhere; in-process, a failed step is left to the next main job to resume)."""
    tags = study_tags(grid)
    # jobs that fine-tune or evaluate: the run queue admits at most the accelerator's slots of these at once
    accelerator = {**tags, ACCELERATOR_RUN_TAG: "true"}
    where = f" Study {grid.study!r}, grid {grid.source_path}."
    models = list(grid.base_models)
    trained = AssetSelection.assets(*[fine_tuned_key(m) for m in models], *[benchmark_scores_key(m) for m in models],
                                    *[preference_scores_key(m) for m in models])
    pool_row = [define_asset_job(JOB_POOL_ROW, AssetSelection.assets(*pool_row_keys(grid)), tags=accelerator,
                                 op_retry_policy=retry,
                                 description="The Pool row: each base model fine-tuned on the whole pool and "
                                             "evaluated on both halves (the grid's pool_row: true)." + where)
                ] if grid.pool_row else []
    return [
        *pool_row,
        define_asset_job(JOB_PREPARE, AssetSelection.groups(GROUP_POOL, GROUP_ANNOTATION, GROUP_LABEL_GRAPH),
                         tags=tags, op_retry_policy=retry,
                         description="Load the pool, annotate it and build the label graph." + where),
        define_asset_job(JOB_BASE_MODELS, AssetSelection.assets(*[base_model_key(m) for m in models],
                                                                *[baseline_scores_key(m) for m in models]),
                         tags=accelerator, op_retry_policy=retry,
                         description="Resolve each base model (the embedded GGUF is converted once) and evaluate it "
                                     "untuned (the baseline row of every report)." + where),
        define_asset_job(JOB_STUDY_GRID, AssetSelection.assets("selection") | trained, tags=accelerator,
                         op_retry_policy=retry,
                         description="The whole grid in order: selection -> fine-tune -> evaluation for each "
                                     "(variant, budget) partition and every base model. Backfill a row (variant), a "
                                     "column (budget) or the whole matrix; the report follows by itself." + where),
        define_asset_job(JOB_SELECT, AssetSelection.assets("selection"), tags=tags, op_retry_policy=retry,
                         description="Selections only (every diversity metric, MLflow selection runs)." + where),
        define_asset_job(JOB_TRAIN, trained, tags=accelerator, op_retry_policy=retry,
                         description="Fine-tune and evaluate selected partitions on every base model." + where),
        define_asset_job(JOB_REPORT, AssetSelection.groups(GROUP_REPORT), tags=tags, op_retry_policy=retry,
                         description="Correlate diversity metrics with benchmark scores over the study." + where),
    ]


def build_sensors(grid: GridSpec) -> list:
    """The report's automation sensor, running by default (its runs carry the study's tags)."""
    return [AutomationConditionSensorDefinition(
        REPORT_SENSOR, target=AssetSelection.groups(GROUP_REPORT), default_status=DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=REPORT_SENSOR_INTERVAL_S, run_tags=study_tags(grid),
        description=f"Re-materializes the correlation report whenever a cell's scores change, over the cells scored "
                    f"so far. Study {grid.study!r}, grid {grid.source_path}.")]
