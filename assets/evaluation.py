"""The evaluation stage: OpenCompass on each fine-tuned model; scores go to Dagster metadata and the MLflow run.

Human-preference benchmarks (judged) are the sibling asset ``preference_scores`` in ``assets/preference.py``.
"""

from dagster import AssetExecutionContext, Output, asset

from dagster_project.constants import GROUP_EVALUATION
from dagster_project.grid import GridSpec
from dagster_project.partitions import training_partitions
from dagster_project.paths import state_dir
from resources.mlflow_tracker import MlflowTracker
from resources.opencompass import OpenCompassRunner
from resources.ray_cluster import cell_op_tags
from selection_ops.evaluation.records import evaluation_metadata, evaluation_metrics


def build_evaluation_assets(grid: GridSpec) -> list:
    @asset(group_name=GROUP_EVALUATION, partitions_def=training_partitions(grid), op_tags=cell_op_tags("evaluation"))
    def benchmark_scores(context: AssetExecutionContext, evaluator: OpenCompassRunner, mlflow_tracker: MlflowTracker,
                         fine_tuned_model: dict) -> Output[dict]:
        """``{"scores": {benchmark: 0-100}, "avg_obj"}`` from OpenCompass's summary (never its exit code)."""
        key = context.partition_key
        work_dir = state_dir() / "evaluations" / key
        result = evaluator.evaluate(model_path=fine_tuned_model["path"], model_name=key, work_dir=work_dir)
        mlflow_tracker.log(fine_tuned_model["run_id"],
                           metrics=evaluation_metrics(result.scores, result.stderr, result.n),
                           artifacts={"opencompass": result.summary_path})
        context.log.info(f"{key}: {result.scores} avg_obj={result.avg_obj:.2f}")
        return Output({"scores": result.scores, "avg_obj": result.avg_obj, "run_id": fine_tuned_model["run_id"],
                       "stderr": result.stderr, "n": result.n},
                      metadata={**{f"score/{k}": float(v) for k, v in result.scores.items()},
                                **evaluation_metadata(result.scores, result.stderr, result.n),
                                "avg_obj": float(result.avg_obj), "summary": str(result.summary_path),
                                "eval_wall_s": float(result.wall_s)})

    return [benchmark_scores]
