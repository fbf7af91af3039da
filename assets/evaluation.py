"""The evaluation stage, one asset per base model: ``<model>/benchmark_scores``, OpenCompass on each fine-tuned
model of that base, partitioned like the selections. Scores go to Dagster metadata and to the fine-tune's MLflow run.

Human-preference benchmarks (judged) are the sibling ``<model>/preference_scores`` in ``assets/preference.py``,
built the same way.
"""

from dagster import AssetExecutionContext, AssetIn, AssetKey, AutomationCondition, MetadataValue, Output, asset

from assets.checks import EVALUATION_CHECKS, evaluation_checks, specs
from assets.constants import ACCELERATOR_POOL, GROUP_EVALUATION
from assets.locations import location_metadata
from assets.partitions import grid_partitions
from assets.training import fine_tuned_key
from assets.values import BenchmarkScores, TrainedModel
from assets.versioning import json_digest, version
from resources.mlflow_tracker import MlflowTracker
from resources.opencompass import OpenCompassRunner
from resources.ray_cluster import cell_op_tags
from resources.study_layout import StudyLayout
from selection_ops.evaluation.questions import write_questions
from selection_ops.evaluation.records import evaluation_metadata, evaluation_metrics
from selection_ops.study.grid import GridSpec

EVALUATION_CODE_VERSION = "4"


def benchmark_scores_key(model: str) -> AssetKey:
    return AssetKey([model, "benchmark_scores"])


def build_evaluation_assets(grid: GridSpec, model: str) -> list:
    @asset(key=benchmark_scores_key(model), group_name=GROUP_EVALUATION, partitions_def=grid_partitions(grid),
           code_version=EVALUATION_CODE_VERSION, pool=ACCELERATOR_POOL, op_tags=cell_op_tags("evaluation"),
           ins={"fine_tuned_model": AssetIn(fine_tuned_key(model))},
           automation_condition=AutomationCondition.eager(),
           check_specs=specs(benchmark_scores_key(model), EVALUATION_CHECKS),
           description=f"OpenCompass scores of the {model!r} fine-tunes; pool {ACCELERATOR_POOL!r}")
    def benchmark_scores(context: AssetExecutionContext, evaluator: OpenCompassRunner, layout: StudyLayout,
                         mlflow_tracker: MlflowTracker, fine_tuned_model: TrainedModel):
        """Scores 0-100 per benchmark and their mean Avg_obj, read from OpenCompass's summary (never its exit code)."""
        cell = fine_tuned_model.cell
        fingerprint = json_digest({"model": fine_tuned_model.fingerprint, "evaluator": evaluator.model_dump()})
        work_dir = layout.evaluation_dir(cell, fingerprint)
        with mlflow_tracker.writing(fine_tuned_model.mlflow_run_id) as run_id:
            result = evaluator.evaluate(model_path=fine_tuned_model.path, model_name=cell, work_dir=work_dir,
                                        on_progress=context.log.info)  # a line per ~30 s in the run view
            scores, stderr, n = result.logged()  # proxy scores: logged and paired, never averaged
            mlflow_tracker.log(run_id, metrics=evaluation_metrics(scores, stderr, n),
                               artifacts={"opencompass": result.summary_path})
            mlflow_tracker.log_questions(run_id, "objective", result.questions)
        questions = write_questions(work_dir / "questions_objective.csv", cell, result.questions)
        value = BenchmarkScores(cell=cell, scores=dict(result.scores), avg_obj=result.avg_obj,
                                requested=tuple(evaluator.datasets), summary_path=str(result.summary_path),
                                mlflow_run_id=run_id, stderr=dict(result.stderr), n=dict(result.n),
                                extra=dict(result.proxy_scores))
        context.log.info(f"{cell}: {result.scores} avg_obj={result.avg_obj:.2f}")
        yield Output(value, data_version=version(json_digest(value.scores)), metadata={
            **location_metadata(work_dir), "avg_obj": float(result.avg_obj), **evaluation_metadata(scores, stderr, n),
            "summary": MetadataValue.path(str(result.summary_path)), "eval_wall_s": float(result.wall_s),
            "questions": MetadataValue.path(str(questions)), "questions_n": len(result.questions),
            "mlflow_run": MetadataValue.url(mlflow_tracker.run_url(grid.study, run_id))})
        yield from evaluation_checks(value.requested, {**value.scores, **value.extra}, cell,
                                     asset_key=benchmark_scores_key(model))

    return [benchmark_scores]
