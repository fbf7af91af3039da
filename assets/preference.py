"""Human-preference scores, one asset per base model like ``benchmark_scores``, and the untuned base model on both
halves: the baseline row of every report (MIG Table 1's reference).

``<model>/preference_scores`` (partitioned by the grid's matrix): AlpacaEval 2 / MT-Bench / WildBench of each
fine-tune, judged through OpenCompass's subjective pipeline; it reads ``<model>/benchmark_scores`` of the same
partition only to log MIG Appx. A.4's Avg (which needs both halves) on the fine-tune's MLflow run. A separate asset
rather than a second half of ``benchmark_scores``: the judge is the cost, so a changed judge re-runs only this half.
``<model>/baseline_scores`` (unpartitioned): the base model without fine-tuning, objective and preference halves.
"""

from collections.abc import Callable, Iterator
from pathlib import Path

from dagster import AssetExecutionContext, AssetIn, AssetKey, AutomationCondition, MetadataValue, Output, asset

from assets.checks import EVALUATION_CHECKS, evaluation_checks, judge_parse_rate_check, specs
from assets.constants import ACCELERATOR_POOL, GROUP_EVALUATION
from assets.evaluation import benchmark_scores_key
from assets.locations import location_metadata
from assets.partitions import grid_partitions
from assets.training import base_model_key, fine_tuned_key
from assets.values import BenchmarkScores, PreferenceScores, TrainedModel
from assets.versioning import json_digest, version
from resources.judge import JudgeResource
from resources.mlflow_tracker import DAGSTER_RUN_TAG, KIND_BASELINE, MlflowTracker
from resources.opencompass import OpenCompassRunner, PreferenceEvaluator
from resources.ray_cluster import cell_op_tags
from resources.study_layout import StudyLayout
from selection_ops.evaluation.judge import JudgeSettings
from selection_ops.evaluation.questions import write_questions
from selection_ops.evaluation.records import ScoreRecord, evaluation_metadata, evaluation_metrics
from selection_ops.study.grid import GridSpec

PREFERENCE_CODE_VERSION = "2"
BASELINE_CODE_VERSION = "2"
# the checks of a reference row (the untuned baseline, the Pool row): every requested benchmark scored, judge parsed
REFERENCE_CHECKS = [*EVALUATION_CHECKS, "judge_parse_rate"]


def preference_scores_key(model: str) -> AssetKey:
    return AssetKey([model, "preference_scores"])


def baseline_scores_key(model: str) -> AssetKey:
    return AssetKey([model, "baseline_scores"])


def _averages(scores: dict, stderr: dict) -> dict[str, float]:
    """A.4's Avg_obj / Avg_sub / Avg and their standard errors, for metadata (NaN where a half is missing)."""
    return {name: float(value) for name, value in ScoreRecord(scores, stderr).averages().items()}


def build_preference_assets(grid: GridSpec, model: str) -> list:
    @asset(key=preference_scores_key(model), group_name=GROUP_EVALUATION, partitions_def=grid_partitions(grid),
           code_version=PREFERENCE_CODE_VERSION, pool=ACCELERATOR_POOL, op_tags=cell_op_tags("evaluation"),
           ins={"fine_tuned_model": AssetIn(fine_tuned_key(model)),
                "benchmark_scores": AssetIn(benchmark_scores_key(model))},
           automation_condition=AutomationCondition.eager(),
           check_specs=specs(preference_scores_key(model), ["judge_parse_rate"]),
           description=f"Judged human-preference scores of the {model!r} fine-tunes; pool {ACCELERATOR_POOL!r}")
    def preference_scores(context: AssetExecutionContext, preference_evaluator: PreferenceEvaluator,
                          judge: JudgeResource, layout: StudyLayout, mlflow_tracker: MlflowTracker,
                          fine_tuned_model: TrainedModel, benchmark_scores: BenchmarkScores):
        """Native-scale scores with standard errors, counts, parse rates and the judge that produced them."""
        cell = fine_tuned_model.cell
        settings = judge.settings()
        fingerprint = json_digest({"model": fine_tuned_model.fingerprint, "judge": judge.model_dump(),
                                   "evaluator": preference_evaluator.model_dump()})
        work_dir = layout.evaluation_dir(cell, fingerprint) / "preference"
        with mlflow_tracker.writing(fine_tuned_model.mlflow_run_id) as run_id:
            result = preference_evaluator.evaluate(model_path=fine_tuned_model.path, model_name=cell,
                                                   work_dir=work_dir, judge=settings, on_progress=context.log.info)
            scores = {**benchmark_scores.scores, **result.scores}
            stderr = {**benchmark_scores.stderr, **result.stderr}
            n = {**benchmark_scores.n, **result.n}
            mlflow_tracker.log(run_id, params={"judge": result.judge, "judge_mode": result.judge_mode,
                                               "judge_pairwise_order": result.pairwise_order},
                               metrics=evaluation_metrics(scores, stderr, n, result.parse_rate),
                               artifacts={"judgements": result.raw_judgements_dir})
            mlflow_tracker.log_questions(run_id, "preference", result.questions)
        questions = write_questions(work_dir / "questions_preference.csv", cell, result.questions)
        value = PreferenceScores(cell=cell, scores=dict(result.scores), stderr=dict(result.stderr), n=dict(result.n),
                                 parse_rate=dict(result.parse_rate), judge=result.judge,
                                 judge_mode=result.judge_mode, mlflow_run_id=run_id)
        context.log.info(f"{cell}: {result.scores} judged by {result.judge}")
        yield Output(value, data_version=version(json_digest(value.scores)), metadata={
            **location_metadata(work_dir),
            **evaluation_metadata(result.scores, result.stderr, result.n, result.judge, result.parse_rate),
            **_averages(scores, stderr), "judge": result.judge, "judge_mode": result.judge_mode,
            "judge_pairwise_order": result.pairwise_order,
            "eval_wall_s": float(result.wall_s), "questions": MetadataValue.path(str(questions)),
            "questions_n": len(result.questions),
            "mlflow_run": MetadataValue.url(mlflow_tracker.run_url(grid.study, run_id))})
        lowest = min(result.parse_rate.values(), default=0.0)
        yield judge_parse_rate_check(lowest, cell, threshold=settings.min_parse_rate,
                                     asset_key=preference_scores_key(model))

    @asset(key=baseline_scores_key(model), group_name=GROUP_EVALUATION, code_version=BASELINE_CODE_VERSION,
           pool=ACCELERATOR_POOL, op_tags=cell_op_tags("evaluation"),
           ins={"base_model": AssetIn(base_model_key(model))},
           check_specs=specs(baseline_scores_key(model), REFERENCE_CHECKS),
           description=f"The untuned base model {model!r} on both halves: the reference row of every report")
    def baseline_scores(context: AssetExecutionContext, evaluator: OpenCompassRunner,
                        preference_evaluator: PreferenceEvaluator, judge: JudgeResource, layout: StudyLayout,
                        mlflow_tracker: MlflowTracker, base_model: str):
        """Objective and preference scores of the base model without fine-tuning, logged as a ``baseline`` run."""
        name = f"baseline__{model}"
        settings = judge.settings()
        fingerprint = json_digest({"base_model": base_model, "evaluator": evaluator.model_dump(),
                                   "preference": preference_evaluator.model_dump(), "judge": judge.model_dump()})
        work_dir = layout.evaluation_dir(name, fingerprint)
        run_id = mlflow_tracker.run_for(study=grid.study, partition=name, kind=KIND_BASELINE, version=fingerprint,
                                        parent_run_id=mlflow_tracker.study_run(
                                            grid.study, grid_file=str(grid.source_path)), run_name=name,
                                        tags={DAGSTER_RUN_TAG: context.run.run_id, "base_model": model},
                                        grid_file=str(grid.source_path), asset=context.asset_key.to_user_string())
        yield from reference_row(evaluator=evaluator, preference_evaluator=preference_evaluator, judge=settings,
                                 mlflow_tracker=mlflow_tracker, study=grid.study, run_id=run_id,
                                 model_path=base_model, name=name, work_dir=work_dir,
                                 params={"base_model": model, "base_model_path": base_model},
                                 asset_key=baseline_scores_key(model), on_progress=context.log.info)

    return [preference_scores, baseline_scores]


def reference_row(*, evaluator: OpenCompassRunner, preference_evaluator: PreferenceEvaluator, judge: JudgeSettings,
                  mlflow_tracker: MlflowTracker, study: str, run_id: str, model_path: str, name: str, work_dir: Path,
                  params: dict, asset_key: AssetKey, on_progress: Callable[[str], None] | None = None) -> Iterator:
    """The body of a reference row's scores asset (the untuned baseline, the Pool row): one model on the objective
    and the preference half, both logged into MLflow run ``run_id`` (scores with their noise, parse rates, the judge,
    OpenCompass's summary and the raw judgements); yields the ``PreferenceScores`` output with A.4's averages in its
    metadata, then the reference checks. ``on_progress``: OpenCompass's and the judge's progress lines."""
    with mlflow_tracker.writing(run_id):
        objective = evaluator.evaluate(model_path=model_path, model_name=name, work_dir=work_dir,
                                       on_progress=on_progress)
        preference = preference_evaluator.evaluate(model_path=model_path, model_name=name,
                                                   work_dir=work_dir / "preference", judge=judge,
                                                   on_progress=on_progress)
        # the likelihood channel's proxy scores ride along (logged, shown, paired), never in A.4's averages
        logged_scores, logged_stderr, logged_n = objective.logged()
        scores = {**logged_scores, **preference.scores}
        stderr = {**logged_stderr, **preference.stderr}
        n = {**logged_n, **preference.n}
        mlflow_tracker.log(run_id, params={**params, "judge": preference.judge, "judge_mode": preference.judge_mode,
                                           "judge_pairwise_order": preference.pairwise_order},
                           metrics=evaluation_metrics(scores, stderr, n, preference.parse_rate),
                           artifacts={"opencompass": objective.summary_path,
                                      "judgements": preference.raw_judgements_dir})
        mlflow_tracker.log_questions(run_id, "objective", objective.questions)
        mlflow_tracker.log_questions(run_id, "preference", preference.questions)
    questions = write_questions(work_dir / "questions.csv", name, (*objective.questions, *preference.questions))
    value = PreferenceScores(cell=name, scores=scores, stderr=stderr, n=n, parse_rate=dict(preference.parse_rate),
                             judge=preference.judge, judge_mode=preference.judge_mode, mlflow_run_id=run_id)
    yield Output(value, data_version=version(json_digest(scores)), metadata={
        **location_metadata(work_dir),
        **evaluation_metadata(scores, stderr, n, preference.judge, preference.parse_rate),
        **_averages(scores, stderr), "judge": preference.judge, "judge_pairwise_order": preference.pairwise_order,
        "questions": MetadataValue.path(str(questions)),
        "questions_n": len(objective.questions) + len(preference.questions),
        "mlflow_run": MetadataValue.url(mlflow_tracker.run_url(study, run_id))})
    yield from reference_checks(value, requested=evaluator.datasets, threshold=judge.min_parse_rate,
                                asset_key=asset_key)

def reference_checks(value: PreferenceScores, *, requested, threshold: float, asset_key: AssetKey) -> list:
    """A reference row's checks: every requested objective benchmark scored; the judge's lowest parse rate."""
    return [*evaluation_checks(tuple(requested), value.scores, value.cell, asset_key=asset_key),
            judge_parse_rate_check(min(value.parse_rate.values(), default=0.0), value.cell, threshold=threshold,
                                   asset_key=asset_key)]
