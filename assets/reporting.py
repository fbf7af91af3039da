"""The report stage: how well each diversity metric of the selections predicts the benchmark average.

It reads the study's MLflow runs (every fine-tune run, the untuned baselines and the Pool row, MIG Appx. A.4's
columns with their standard errors for each; every selection run for the overview), so it always sees
every evaluated cell, including ones from earlier Dagster runs, and needs no path from another stage. It is its own
MLflow run (a child of the study run) with its plots logged as images, shown by the MLflow UI without downloading.
"""

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AutomationCondition,
    MaterializeResult,
    MetadataValue,
    asset,
)

from assets.evaluation import benchmark_scores_key
from assets.pool_row import pool_row_keys
from assets.preference import baseline_scores_key, preference_scores_key
from dagster_project.constants import GROUP_REPORT
from dagster_project.grid import GridSpec
from resources.mlflow_tracker import (
    AVG_OBJ,
    DAGSTER_RUN_TAG,
    DIVERSITY_PREFIX,
    KIND_BASELINE,
    KIND_FINE_TUNE,
    KIND_POOL_ROW,
    KIND_REPORT,
    KIND_SELECTION,
    MlflowTracker,
)
from resources.study_layout import StudyLayout

REPORT_CODE_VERSION = "4"
INFORMATIVE_CHECK = "benchmarks_informative"


def overview_figure(selections: pd.DataFrame, cells: pd.DataFrame):
    """Two panels: each diversity metric per selection (scaled to [0, 1] across selections, so all fit one axis),
    and Avg_obj per trained cell."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = sorted(c for c in selections.columns if c.startswith(DIVERSITY_PREFIX))
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5), gridspec_kw={"width_ratios": [3, 2]})
    if metrics and len(selections):
        values = selections.set_index("partition")[metrics].astype(float)
        span = (values.max() - values.min()).replace(0, 1.0)
        scaled = (values - values.min()) / span
        image = left.imshow(scaled.T.to_numpy(), aspect="auto", cmap="viridis", vmin=0, vmax=1)
        left.set_xticks(range(len(scaled)), scaled.index, rotation=60, ha="right", fontsize=7)
        left.set_yticks(range(len(metrics)), [m.removeprefix(DIVERSITY_PREFIX) for m in metrics], fontsize=7)
        fig.colorbar(image, ax=left, label="scaled across selections")
    left.set_title("diversity metrics per selection")
    if AVG_OBJ in cells and len(cells):
        ordered = cells.sort_values(AVG_OBJ)
        right.barh(ordered["partition"], ordered[AVG_OBJ])
        right.tick_params(axis="y", labelsize=7)
    right.set_xlabel(AVG_OBJ)
    right.set_title("benchmark average per trained cell")
    fig.tight_layout()
    return fig


def build_reporting_assets(grid: GridSpec) -> list:
    @asset(group_name=GROUP_REPORT, code_version=REPORT_CODE_VERSION,
           deps=[key(model) for model in grid.base_models
                 for key in (benchmark_scores_key, preference_scores_key, baseline_scores_key)] + pool_row_keys(grid),
           automation_condition=AutomationCondition.eager(),
           check_specs=[AssetCheckSpec(INFORMATIVE_CHECK, asset="diversity_correlation",
                                       description="every benchmark tells some runs apart (one that gives every "
                                                   "run the same score is left out of zsum and the correlations)")])
    def diversity_correlation(context: AssetExecutionContext, mlflow_tracker: MlflowTracker,
                              layout: StudyLayout) -> MaterializeResult:
        """MIG Appx. A.4's Avg_obj / Avg_sub / Avg with standard errors for every run (the untuned baseline included),
        the paired verdicts of every pair of runs per benchmark and average from their per-question MLflow tables
        (a cell's seeds pooled), the likelihood channel as a proxy block, and each diversity metric's Pearson,
        Spearman and mean (NovelSum Eq. 6) against Avg with n and bootstrap intervals, with and without the
        degenerate control."""
        from selection_ops.report import correlation_report, pool_seed_runs, runs_table

        client = mlflow_tracker.client()
        # the study's present state: runs superseded by a changed selection or fine-tune are left out
        cells = runs_table(mlflow_tracker.find_runs(study=grid.study, kind=KIND_FINE_TUNE, current_only=True))
        # the reference rows: the untuned baselines and, when the grid has one, the Pool row (scores, no diversity)
        references = [run for kind in (KIND_BASELINE, KIND_POOL_ROW)
                      for run in mlflow_tracker.find_runs(study=grid.study, kind=kind, current_only=True)]
        reference_rows = runs_table(references)
        selections = runs_table(mlflow_tracker.find_runs(study=grid.study, kind=KIND_SELECTION, current_only=True))
        out_dir = layout.report_dir()
        table = pd.concat([reference_rows, cells], ignore_index=True)
        # every evaluated run's per-question scores (MLflow tables): the evidence of the paired verdicts
        questions = mlflow_tracker.questions_of(dict(zip(table["run_id"], table["run"]))) if len(table) else None
        table, questions = pool_seed_runs(table, questions)  # a cell over its seeds is one row, one paired unit
        report = correlation_report(table, out_dir, performance=grid.performance, questions=questions)
        study_run = mlflow_tracker.study_run(grid.study)
        run_id = mlflow_tracker.run_for(study=grid.study, partition=f"report__{grid.study}", kind=KIND_REPORT,
                                        parent_run_id=study_run, run_name="correlation report",
                                        tags={DAGSTER_RUN_TAG: context.run.run_id})
        with mlflow_tracker.writing(run_id):
            mlflow_tracker.log(run_id, metrics={**report.flat_metrics(), "points": report.points},
                               artifacts={"report": out_dir},
                               tables={"verdicts/pairs.json": pd.DataFrame(report.pairs)} if report.pairs else None,
                               images={f"plots/{path.name}": path for path in report.plots.values()})
            figure = overview_figure(selections, cells)
            client.log_figure(run_id, figure, "plots/overview.png")
            import matplotlib.pyplot as plt

            plt.close(figure)
        context.log.info(report.message)
        uninformative = report.uninformative
        informative = AssetCheckResult(
            check_name=INFORMATIVE_CHECK, passed=not uninformative, severity=AssetCheckSeverity.WARN,
            description=("; ".join(f"{key}: {reason}" for key, reason in sorted(uninformative.items()))
                         or "every benchmark tells some runs apart"),
            metadata={"uninformative": len(uninformative), "benchmarks": ", ".join(sorted(uninformative)) or "-"})
        return MaterializeResult(check_results=[informative], metadata={
            "points": report.points, "runs": len(cells) + len(reference_rows), "selections": len(selections),
            "message": report.message, "performance": report.performance,
            "correlations": MetadataValue.md(report.markdown()),
            "verdicts": MetadataValue.md(report.scores_markdown() or report.verdict_note),
            "pairs_told_apart": sum(1 for p in report.pairs if p.get("verdict") != "indistinguishable"),
            "pairs": len(report.pairs),
            "report_dir": MetadataValue.path(str(out_dir)),
            "mlflow_run": MetadataValue.url(mlflow_tracker.run_url(grid.study, run_id))})

    return [diversity_correlation]
