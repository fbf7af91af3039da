"""The grid's Pool row (MIG Table 1's full-pool fine-tune): built only when the grid asks, trained on every pool
row, evaluated on both halves, a score row of the report and never a correlation point; on a real Dagster instance,
the trainer and evaluators faked at the resource seam."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from studykit import GRID, Study, ran


def _pool_study(home: Path) -> Study:
    return Study(home, body=GRID.format(study="alpha", unique=2) + "pool_row: true\n")


def test_without_pool_row_the_grid_has_no_pool_row_assets(home: Path) -> None:
    keys = {k.to_user_string() for k in Study(home).definitions().resolve_asset_graph().materializable_asset_keys}
    assert not any("pool_" in k for k in keys), keys


def test_pool_row_trains_on_the_whole_pool_and_is_a_score_row_of_the_report(home: Path) -> None:
    from mlflow.tracking import MlflowClient

    study = _pool_study(home)
    first = study.run()
    assert {"tiny/pool_fine_tuned_model pool__tiny", "tiny/pool_scores pool__tiny"} <= ran(first), "\n".join(first)
    pool = pd.read_parquet(next(study.layout.root.rglob("pool.parquet")))
    trained_dirs = [p for p in study.layout.root.rglob("records.json") if "pool__tiny" in p.parts]
    (records_file,) = trained_dirs
    assert len(json.loads(records_file.read_text())) == len(pool) > 4  # every pool row, more than any budget

    client = MlflowClient(f"sqlite:///{home / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("alpha")
    (run,) = client.search_runs([experiment.experiment_id], "tags.`infosift.kind` = 'pool-row'")
    (study_run,) = client.search_runs([experiment.experiment_id], "tags.`infosift.kind` = 'study'")
    assert run.info.status == "FINISHED" and run.info.end_time
    assert run.data.tags["mlflow.parentRunId"] == study_run.info.run_id
    assert run.data.params["budget"] == str(len(pool)) and run.data.params["judge"] == "fake-judge"
    assert {"bench.arc_c", "bench.mtbench", "avg_obj", "avg_sub", "avg", "train.loss"} <= set(run.data.metrics)
    assert not any(m.startswith("diversity.") for m in run.data.metrics)

    table = pd.read_csv(study.layout.report_dir() / "table.csv").set_index("run")
    assert {"pool__tiny", "baseline__tiny"} <= set(table.index)
    assert table.loc["pool__tiny", "avg"] == run.data.metrics["avg"]
    report = json.loads((study.layout.report_dir() / "report.json").read_text())
    trained_cells = len(study.grid.default_training_keys())
    assert report["points"] == trained_cells  # the reference rows are not correlation points
    # paired verdicts from every evaluated run's per-question MLflow tables: each pair of runs once per benchmark
    pairs = pd.read_csv(study.layout.report_dir() / "pairs.csv")
    assert list(pairs.columns[:10]) == ["a", "b", "benchmark", "diff", "ci_low", "ci_high", "p_value", "p_holm",
                                        "verdict", "mde"]
    runs = len(table)
    arc = pairs[pairs["benchmark"] == "arc_c"]
    assert len(arc) == runs * (runs - 1) // 2 and {"pool__tiny", "baseline__tiny"} <= set(arc["a"]) | set(arc["b"])
    assert (arc["test"] == "mcnemar-exact").all() and {"avg", "avg_obj", "avg_sub", "mtbench"} <= set(pairs.benchmark)
    assert "Paired verdicts" in "\n".join(first)  # the main job's summary of pairs.csv
    (line,) = [line for line in "\n".join(first).splitlines() if line.startswith("(pool)")]  # the grid's table
    assert "tiny" in line and f"{run.data.metrics['avg']:.4g}" in line

    second = study.run()
    assert ran(second) == set(), "\n".join(second)  # up to date by the same rule as every cell


def test_a_failing_pool_row_check_names_the_row(home: Path) -> None:
    from dagster import AssetKey, DagsterEventType

    from assets.constants import JOB_POOL_ROW
    from dagster_project.jobs import JOB_BASE_MODELS

    study = Study(home, body=GRID.format(study="alpha", unique=2) + "pool_row: true\n", nan_loss=True)
    defs = study.definitions()
    with study.instance() as instance:
        assert defs.resolve_job_def(JOB_BASE_MODELS).execute_in_process(
            instance=instance, asset_selection=[AssetKey(["tiny", "base_model"])]).success
        result = defs.resolve_job_def(JOB_POOL_ROW).execute_in_process(
            instance=instance, asset_selection=[AssetKey(["tiny", "pool_fine_tuned_model"])], raise_on_error=False)
    failed = [e.event_specific_data for e in result.all_events
              if e.event_type == DagsterEventType.ASSET_CHECK_EVALUATION and not e.event_specific_data.passed]
    assert {c.check_name for c in failed} == {"training_loss_finite", "training_loss_decreased"}
    assert all(c.metadata["partition"].value == "pool__tiny" for c in failed)
