"""The "Pool" reference row of MIG Table 1: each base model fine-tuned on the whole pool and evaluated on both halves,
built only when the grid says ``pool_row: true`` (it trains on every pool row, the most expensive cell of a study).

``<model>/pool_fine_tuned_model`` and ``<model>/pool_scores`` are unpartitioned, like the untuned baseline: one per
base model, whatever the budgets. Their MLflow run (kind ``pool-row``, named ``pool__<model>``) is a child of the
study run and carries no diversity metric, so the report shows it as a score row beside the baseline and never
as a correlation point (its size is the pool's, not a budget's: its diversity is not comparable with the cells').
"""

import pandas as pd
from dagster import AssetExecutionContext, AssetIn, AssetKey, asset

from assets.checks import TRAINING_CHECKS, specs
from assets.constants import ACCELERATOR_POOL, GROUP_EVALUATION, GROUP_TRAINING
from assets.preference import REFERENCE_CHECKS, reference_row
from assets.training import base_model_key, fine_tune
from assets.values import TrainedModel
from assets.versioning import ids_digest, json_digest
from resources.judge import JudgeResource
from resources.llamafactory import LlamaFactoryTrainer
from resources.mlflow_tracker import DAGSTER_RUN_TAG, KIND_POOL_ROW, MlflowTracker
from resources.opencompass import OpenCompassRunner, PreferenceEvaluator
from resources.ray_cluster import cell_op_tags
from resources.study_layout import StudyLayout
from selection_ops.study.grid import GridSpec

POOL_ROW_CODE_VERSION = "1"
POOL_SCORES_CODE_VERSION = "2"  # per-question records


def pool_row_name(model: str) -> str:
    """The row's name in the report, MLflow and the layout: ``pool__<model>``."""
    return f"pool__{model}"


def pool_fine_tuned_key(model: str) -> AssetKey:
    return AssetKey([model, "pool_fine_tuned_model"])


def pool_scores_key(model: str) -> AssetKey:
    return AssetKey([model, "pool_scores"])


def pool_row_keys(grid: GridSpec) -> list[AssetKey]:
    """Every Pool-row asset of the grid (none unless ``pool_row: true``)."""
    if not grid.pool_row:
        return []
    return [key(model) for model in grid.base_models for key in (pool_fine_tuned_key, pool_scores_key)]


def build_pool_row_assets(grid: GridSpec, model: str) -> list:
    if not grid.pool_row:
        return []
    name = pool_row_name(model)

    @asset(key=pool_fine_tuned_key(model), group_name=GROUP_TRAINING, code_version=POOL_ROW_CODE_VERSION,
           pool=ACCELERATOR_POOL, op_tags=cell_op_tags("fine_tune"),
           ins={"base_model": AssetIn(base_model_key(model)), "pool": AssetIn("pool")},
           check_specs=specs(pool_fine_tuned_key(model), TRAINING_CHECKS),
           description=f"The Pool row: {model!r} fine-tuned on the whole pool; pool {ACCELERATOR_POOL!r}")
    def pool_fine_tuned_model(context: AssetExecutionContext, trainer: LlamaFactoryTrainer, layout: StudyLayout,
                              mlflow_tracker: MlflowTracker, pool: pd.DataFrame, base_model: str):
        """The base model fine-tuned on every pool conversation (pool order), with the grid cells' recipe."""
        ids = [str(i) for i in pool["id"]]
        digest = ids_digest(ids)  # the same identity a selection of these ids would have
        fingerprint = json_digest({"pool": digest, "base_model": base_model, "trainer": trainer.model_dump()})
        run_id = mlflow_tracker.run_for(study=grid.study, partition=name, kind=KIND_POOL_ROW, version=fingerprint,
                                        parent_run_id=mlflow_tracker.study_run(
                                            grid.study, grid_file=str(grid.source_path)), run_name=name,
                                        tags={DAGSTER_RUN_TAG: context.run.run_id, "base_model": model},
                                        grid_file=str(grid.source_path), asset=context.asset_key.to_user_string())
        yield from fine_tune(context, trainer=trainer, layout=layout, mlflow_tracker=mlflow_tracker,
                             study=grid.study, model=model, cell=name, fingerprint=fingerprint, run_id=run_id,
                             pool=pool, ids=ids, base_model=base_model, asset_key=pool_fine_tuned_key(model),
                             params={"selector": "pool", "budget": len(ids), "pool_ids_digest": digest},
                             metrics={}, artifacts={})

    @asset(key=pool_scores_key(model), group_name=GROUP_EVALUATION, code_version=POOL_SCORES_CODE_VERSION,
           pool=ACCELERATOR_POOL, op_tags=cell_op_tags("evaluation"),
           ins={"pool_fine_tuned_model": AssetIn(pool_fine_tuned_key(model))},
           check_specs=specs(pool_scores_key(model), REFERENCE_CHECKS),
           description=f"The Pool row of {model!r} on both halves (objective and judged); pool {ACCELERATOR_POOL!r}")
    def pool_scores(context: AssetExecutionContext, evaluator: OpenCompassRunner,
                    preference_evaluator: PreferenceEvaluator, judge: JudgeResource, layout: StudyLayout,
                    mlflow_tracker: MlflowTracker, pool_fine_tuned_model: TrainedModel):
        """Objective and preference scores of the full-pool fine-tune, logged into its own MLflow run."""
        settings = judge.settings()
        fingerprint = json_digest({"model": pool_fine_tuned_model.fingerprint, "evaluator": evaluator.model_dump(),
                                   "preference": preference_evaluator.model_dump(), "judge": judge.model_dump()})
        yield from reference_row(evaluator=evaluator, preference_evaluator=preference_evaluator, judge=settings,
                                 mlflow_tracker=mlflow_tracker, study=grid.study,
                                 run_id=pool_fine_tuned_model.mlflow_run_id, model_path=pool_fine_tuned_model.path,
                                 name=name, work_dir=layout.evaluation_dir(name, fingerprint), params={},
                                 asset_key=pool_scores_key(model), on_progress=context.log.info)

    return [pool_fine_tuned_model, pool_scores]
