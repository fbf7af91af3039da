"""Human-preference scores (a sibling of ``benchmark_scores``, partitioned the same way) and the untuned base model
evaluated on both halves: the baseline row of every report (MIG Table 1's reference).

``preference_scores``: the judge's scores of each fine-tuned model; it reads ``benchmark_scores`` of the same
partition only to log MIG Appx. A.4's Avg (which needs both halves) on the model's MLflow run.
"""

from dagster import AssetExecutionContext, Output, asset

from dagster_project.constants import GROUP_EVALUATION
from dagster_project.grid import GridSpec
from dagster_project.partitions import base_model_partitions, training_partitions
from dagster_project.paths import state_dir
from resources.judge import JudgeResource
from resources.mlflow_tracker import DAGSTER_RUN_TAG, MlflowTracker
from resources.opencompass import OpenCompassRunner, PreferenceEvaluator
from selection_ops.evaluation.records import evaluation_metadata, evaluation_metrics

BASELINE_RUN_KIND = "baseline"


def build_preference_assets(grid: GridSpec) -> list:
    @asset(group_name=GROUP_EVALUATION, partitions_def=training_partitions(grid))
    def preference_scores(context: AssetExecutionContext, preference_evaluator: PreferenceEvaluator,
                          judge: JudgeResource, mlflow_tracker: MlflowTracker, fine_tuned_model: dict,
                          benchmark_scores: dict) -> Output[dict]:
        """``{"scores", "stderr", "n", "parse_rate", "judge"}``: AlpacaEval 2 / MT-Bench / WildBench on native
        scales, judged through OpenCompass's subjective pipeline; the judge and its mode are recorded."""
        key = context.partition_key
        settings = judge.settings()
        result = preference_evaluator.evaluate(model_path=fine_tuned_model["path"], model_name=key,
                                               work_dir=state_dir() / "evaluations" / key / "preference",
                                               judge=settings)
        scores = {**benchmark_scores["scores"], **result.scores}
        stderr = {**benchmark_scores.get("stderr", {}), **result.stderr}
        n = {**benchmark_scores.get("n", {}), **result.n}
        mlflow_tracker.log(fine_tuned_model["run_id"], params={"judge": result.judge, "judge_mode": result.judge_mode},
                           metrics=evaluation_metrics(scores, stderr, n, result.parse_rate),
                           artifacts={"judgements": result.raw_judgements_dir})
        context.log.info(f"{key}: {result.scores} judged by {result.judge}")
        return Output({"scores": result.scores, "stderr": result.stderr, "n": result.n,
                       "parse_rate": result.parse_rate, "judge": result.judge},
                      metadata={**evaluation_metadata(result.scores, result.stderr, result.n, result.judge,
                                                      result.parse_rate),
                                "judge": result.judge, "judge_mode": result.judge_mode,
                                "eval_wall_s": float(result.wall_s)})

    @asset(group_name=GROUP_EVALUATION, partitions_def=base_model_partitions(grid))
    def baseline_scores(context: AssetExecutionContext, evaluator: OpenCompassRunner,
                        preference_evaluator: PreferenceEvaluator, judge: JudgeResource,
                        mlflow_tracker: MlflowTracker, base_model: str) -> Output[dict]:
        """The base model without fine-tuning, on both halves: a row of every report."""
        key = context.partition_key
        name = f"baseline__{key}"
        work_dir = state_dir() / "evaluations" / name
        objective = evaluator.evaluate(model_path=base_model, model_name=name, work_dir=work_dir)
        settings = judge.settings()
        preference = preference_evaluator.evaluate(model_path=base_model, model_name=name,
                                                   work_dir=work_dir / "preference", judge=settings)
        scores, stderr = {**objective.scores, **preference.scores}, {**objective.stderr, **preference.stderr}
        n = {**objective.n, **preference.n}
        run_id = mlflow_tracker.run_for(study=grid.study, partition=name, kind=BASELINE_RUN_KIND,
                                        tags={DAGSTER_RUN_TAG: context.run.run_id, "base_model": key})
        mlflow_tracker.log(run_id, params={"base_model": key, "base_model_path": base_model,
                                           "judge": preference.judge, "judge_mode": preference.judge_mode},
                           metrics=evaluation_metrics(scores, stderr, n, preference.parse_rate),
                           artifacts={"opencompass": objective.summary_path,
                                      "judgements": preference.raw_judgements_dir})
        return Output({"scores": scores, "stderr": stderr, "n": n, "run_id": run_id},
                      metadata={**evaluation_metadata(scores, stderr, n, preference.judge, preference.parse_rate),
                                "mlflow_run_id": run_id, "judge": preference.judge})

    return [preference_scores, baseline_scores]
