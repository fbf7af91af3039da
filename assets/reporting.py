"""The report stage: how well each diversity metric of the selections predicts the benchmark average.

It reads the study's MLflow runs (one per trained partition), so it always sees every evaluated partition,
including ones from earlier Dagster runs, and needs no path from another stage.
"""

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from dagster_project.constants import GROUP_REPORT
from dagster_project.grid import GridSpec
from dagster_project.paths import state_dir
from resources.mlflow_tracker import DAGSTER_RUN_TAG, KIND_TAG, MlflowTracker

REPORT_RUN_KIND = "correlation-report"


def build_reporting_assets(grid: GridSpec) -> list:
    @asset(group_name=GROUP_REPORT, deps=["benchmark_scores", "preference_scores", "baseline_scores"])
    def diversity_correlation(context: AssetExecutionContext, mlflow_tracker: MlflowTracker) -> MaterializeResult:
        """MIG A.4's Avg_obj / Avg_sub / Avg with standard errors for every run (the base-model baseline included),
        and each diversity metric's Pearson, Spearman and mean (NovelSum Eq. 6) against Avg."""
        from assets.preference import BASELINE_RUN_KIND
        from selection_ops.report import correlation_report, runs_table

        client = mlflow_tracker.client()
        experiment_id = mlflow_tracker.experiment_id(grid.study)
        runs = [run for kind in ("fine-tune", BASELINE_RUN_KIND)
                for run in client.search_runs([experiment_id], filter_string=f"tags.`{KIND_TAG}` = '{kind}'")]
        table = runs_table(runs)
        out_dir = state_dir() / "reports" / grid.study
        report = correlation_report(table, out_dir)
        run_id = mlflow_tracker.run_for(study=grid.study, partition=f"report__{grid.study}", kind=REPORT_RUN_KIND,
                                        tags={DAGSTER_RUN_TAG: context.run.run_id})
        mlflow_tracker.log(run_id, metrics=report.flat_metrics(), artifacts={"report": out_dir})
        context.log.info(report.message)
        return MaterializeResult(metadata={
            "points": report.points, "runs": len(table), "message": report.message,
            "correlations": MetadataValue.md(report.markdown()), "performance": report.performance,
            "report_dir": str(out_dir), "mlflow_run_id": run_id,
        })

    return [diversity_correlation]
