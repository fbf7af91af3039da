"""The report stage: how well each diversity metric of the selections predicts the benchmark average.

It reads the study's MLflow runs (every fine-tune run, the untuned baselines and the Pool row, MIG Appx. A.4's
columns with their standard errors for each; every selection run for the overview), so it always sees
every evaluated cell, including ones from earlier Dagster runs, and needs no path from another stage. It is its own
MLflow run (a child of the study run) with its plots logged as images, shown by the MLflow UI without downloading.

It follows the grid: ``report_condition`` requests it whenever a cell's scores change, over the cells scored so far (a
study is normally partly trained), and the ``report_follows_grid`` sensor (``dagster_project/jobs.py``) that
evaluates it is on by default. Its page in Dagster holds the scores with their 95 % intervals, the correlations and
the paired verdicts as sortable tables, the plots inline (each linking to its MLflow artifact), how many grid cells
are still unscored, and the report's folder with its size.
"""

import base64
import io
import math
from pathlib import Path

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AutomationCondition,
    DagsterInstance,
    MaterializeResult,
    MetadataValue,
    TableColumn,
    TableRecord,
    TableSchema,
    asset,
)

from assets.constants import GROUP_REPORT
from assets.evaluation import benchmark_scores_key
from assets.locations import location_metadata
from assets.partitions import cell_of, grid_partitions
from assets.pool_row import pool_row_keys
from assets.preference import baseline_scores_key, preference_scores_key
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
from selection_ops.foundation.atomic import atomic_path, write_text_atomic
from selection_ops.study.grid import GridSpec

REPORT_CODE_VERSION = "5"  # 5: tables, inline plots, unscored cells, report folder size
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


OVERVIEW_DPI = 80  # 880 x 360 pixels: legible in MLflow, small enough to embed in the asset's metadata


def save_overview(selections: pd.DataFrame, cells: pd.DataFrame, path: Path) -> Path:
    """``overview_figure`` as a PNG at ``path`` (written whole, then renamed)."""
    import matplotlib.pyplot as plt

    figure = overview_figure(selections, cells)
    try:
        with atomic_path(path) as temporary:
            figure.savefig(temporary, dpi=OVERVIEW_DPI, format="png")
    finally:
        plt.close(figure)
    return path


def report_condition() -> AutomationCondition:
    """Dagster's ``eager()`` without its wait for every dependency: the report is requested when any scores asset
    (a cell's objective or judged scores, a baseline, the Pool row) has a new materialization, or when it is missing
    itself, as soon as some scores exist and none of its dependencies is being computed. ``eager()`` also requires no
    missing dependency partition, which a partly trained grid (the normal state of a study) never meets."""
    some_scores = AutomationCondition.any_deps_match(~AutomationCondition.missing()).with_label("some scores exist")
    return (AutomationCondition.eager().without(~AutomationCondition.any_deps_missing())
            & some_scores).with_label("eager over the scored cells")


def unscored_cells(instance: DagsterInstance, grid: GridSpec) -> tuple[int, list[str]]:
    """(the grid's cell count, the cells whose objective scores are not materialized), every partition of the
    matrix on every base model, in partition order."""
    keys = grid_partitions(grid).get_partition_keys()
    missing = []
    for model in grid.base_models:
        scored = instance.get_materialized_partitions(benchmark_scores_key(model))
        missing += [cell_of(key, model) for key in keys if key not in scored]
    return len(keys) * len(grid.base_models), missing


def _number(value: object, digits: int = 4) -> float | None:
    """A finite number rounded for display, else None (a table cell the UI leaves empty)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return round(number, digits) if math.isfinite(number) else None


def _table(columns: list[tuple[str, str, str]], rows: list[dict]) -> MetadataValue:
    """``MetadataValue.table`` of ``rows`` over ``columns`` (name, type, description); the UI sorts by any column."""
    schema = TableSchema(columns=[TableColumn(name, type, description=text) for name, type, text in columns])
    return MetadataValue.table(records=[TableRecord({name: row.get(name) for name, _, _ in columns}) for row in rows],
                               schema=schema)


def scores_table(scores: list[dict], performance: str) -> MetadataValue:
    """One row per run, best ``performance`` first (Dagster 1.13's table does not sort on a click): A.4's Avg_obj /
    Avg_sub / Avg with their 95 % intervals (1.96 standard errors of the run's own score) and each benchmark's score
    with its 95 % half-width and question count."""
    columns: list[tuple[str, str, str]] = [("run", "string", "cell, untuned baseline or Pool row")]
    for name in ("avg_obj", "avg_sub", "avg"):
        columns += [(name, "float", f"MIG Appx. A.4 {name}"), (f"{name}_low", "float", "95 % interval, low"),
                    (f"{name}_high", "float", "95 % interval, high")]
    benchmarks = sorted({k.removeprefix("bench.") for row in scores for k in row
                         if k.startswith("bench.") and k.count(".") == 1})
    for key in benchmarks:
        columns += [(key, "float", f"bench.{key}"), (f"{key} ±", "float", "95 % half-width (1.96 standard errors)"),
                    (f"{key} n", "int", "questions scored")]
    rows = []
    for score in sorted(scores, key=lambda score: _descending(_number(score.get(performance)))):
        row: dict[str, object] = {"run": str(score["run"])}
        for name in ("avg_obj", "avg_sub", "avg"):
            value, se = _number(score.get(name)), _number(score.get(f"{name}.stderr"))
            row[name] = value
            if value is not None and se is not None:
                row[f"{name}_low"], row[f"{name}_high"] = round(value - 1.96 * se, 4), round(value + 1.96 * se, 4)
        for key in benchmarks:
            se = _number(score.get(f"bench.{key}.stderr"))
            n = _number(score.get(f"bench.{key}.n"), 0)
            row[key] = _number(score.get(f"bench.{key}"))
            row[f"{key} ±"] = round(1.96 * se, 4) if se is not None else None
            row[f"{key} n"] = int(n) if n is not None else None
        rows.append(row)
    return _table(columns, rows)


def _descending(value: float | None) -> float:
    """A sort key: the largest value first, missing values last."""
    return -value if value is not None else math.inf


def correlations_table(report) -> MetadataValue:
    """One row per diversity metric (and ``<metric>.vs_zsum``) and point set, the highest mean first: n, Pearson,
    Spearman and their mean (NovelSum Eq. 6), each with its 95 % bootstrap interval over the points, or why it is
    undefined."""
    columns: list[tuple[str, str, str]] = [("metric", "string", "diversity metric"),
                                           ("points", "string", "all points, or without the control runs"),
                                           ("n", "int", "evaluated runs correlated")]
    for kind in ("pearson", "spearman", "mean"):
        columns += [(kind, "float", kind), (f"{kind}_low", "float", "95 % bootstrap interval, low"),
                    (f"{kind}_high", "float", "95 % bootstrap interval, high")]
    columns.append(("note", "string", "why a value is undefined"))
    rows = []
    for points, table, reasons in (("all", report.correlations, report.reasons),
                                   ("without controls", report.correlations_without_controls, {})):
        for metric, values in sorted(table.items(), key=lambda kv: (_descending(_number(kv[1].get("mean"))), kv[0])):
            row: dict[str, object] = {"metric": metric, "points": points, "n": _number(values.get("n"), 0),
                                      "note": reasons.get(metric) or values.get("reason")}
            row["n"] = int(row["n"]) if row["n"] is not None else None
            for kind in ("pearson", "spearman", "mean"):
                for suffix in ("", "_low", "_high"):
                    row[f"{kind}{suffix}"] = _number(values.get(f"{kind}{suffix}"))
            rows.append(row)
    return _table(columns, rows)


VERDICT_COLUMNS = [("a", "string", "run a"), ("b", "string", "run b"),
                   ("benchmark", "string", "benchmark key or A.4 average"),
                   ("diff", "float", "a - b, paired over the questions both answered"),
                   ("ci_low", "float", "95 % interval, low"), ("ci_high", "float", "95 % interval, high"),
                   ("p_holm", "float", "p-value, Holm-adjusted within the benchmark's family"),
                   ("mde", "float", "smallest difference this comparison could have shown (80 % power)"),
                   ("n", "int", "paired questions"),
                   ("verdict", "string", "which run is better, or indistinguishable"),
                   ("proxy", "bool", "a proxy benchmark (outside A.4's averages)")]


def verdicts_table(pairs: list[dict]) -> MetadataValue:
    """The paired verdicts (``pairs.csv``), one row per pair of runs and benchmark."""
    rows = []
    for pair in pairs:
        row = {name: (_number(pair.get(name)) if type == "float" else pair.get(name))
               for name, type, _ in VERDICT_COLUMNS}
        n = _number(pair.get("n"), 0)
        row["n"] = int(n) if n is not None else None
        row["proxy"] = bool(pair.get("proxy"))
        rows.append(row)
    return _table(VERDICT_COLUMNS, rows)


MAX_INLINE_WIDTH = 640  # pixels: a plot embedded in the asset's metadata is scaled down to this width
INLINE_COLORS = 128


def inline_png(path: Path, max_width: int = MAX_INLINE_WIDTH) -> str:
    """A ``data:image/png;base64,...`` URI of the PNG at ``path``, scaled down to ``max_width`` pixels and to a
    palette of ``INLINE_COLORS`` (a plot's few colours: a third of the bytes), since Dagster stores the markdown in
    its event log and renders data URIs; the full-size image stays in MLflow."""
    from PIL import Image

    with Image.open(path) as image:
        image = image.convert("RGB")
        if image.width > max_width:
            image = image.resize((max_width, round(image.height * max_width / image.width)), Image.LANCZOS)
        buffer = io.BytesIO()
        image.quantize(colors=INLINE_COLORS).save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def plots_markdown(plots: dict[str, Path], artifact_url: dict[str, str]) -> str:
    """Each plot inline, titled, linking to its MLflow artifact (``artifact_url``: plot name -> URL)."""
    parts = []
    for name, path in plots.items():
        url = artifact_url[name]
        parts.append(f"**{name}** ([open in MLflow]({url}))\n\n[![{name}]({inline_png(path)})]({url})")
    return "\n\n".join(parts)


def build_reporting_assets(grid: GridSpec) -> list:
    @asset(group_name=GROUP_REPORT, code_version=REPORT_CODE_VERSION,
           deps=[key(model) for model in grid.base_models
                 for key in (benchmark_scores_key, preference_scores_key, baseline_scores_key)] + pool_row_keys(grid),
           automation_condition=report_condition(),
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
        cells_total, unscored = unscored_cells(context.instance, grid)
        coverage = (f"{cells_total - len(unscored)} of {cells_total} grid cells scored; {len(unscored)} not yet "
                    "trained and evaluated" + (f" ({', '.join(unscored[:8])}{', ...' if len(unscored) > 8 else ''})"
                                               if unscored else "") + "; the report covers the scored ones")
        write_text_atomic(out_dir / "coverage.txt", coverage + "\n")
        study_run = mlflow_tracker.study_run(grid.study, grid_file=str(grid.source_path))
        run_id = mlflow_tracker.run_for(study=grid.study, partition=f"report__{grid.study}", kind=KIND_REPORT,
                                        parent_run_id=study_run, run_name="correlation report",
                                        tags={DAGSTER_RUN_TAG: context.run.run_id},
                                        grid_file=str(grid.source_path), asset=context.asset_key.to_user_string())
        plots = {"overview": save_overview(selections, cells, out_dir / "overview.png"),
                 **{name: report.plots[name] for name in sorted(report.plots, key=lambda n: n != "scores")}}
        artifact = {name: f"plots/{path.name}" for name, path in plots.items()}
        with mlflow_tracker.writing(run_id):
            mlflow_tracker.log(run_id, metrics={**report.flat_metrics(), "points": report.points,
                                                "cells_unscored": len(unscored)},
                               artifacts={"report": out_dir},
                               tables={"verdicts/pairs.json": pd.DataFrame(report.pairs)} if report.pairs else None,
                               images={artifact[name]: path for name, path in plots.items()})
        if "comparison" in plots:  # the study run holds the figure too: it is what opens the experiment's story
            mlflow_tracker.log(study_run, images={"comparison.png": plots["comparison"]})
        run_url = mlflow_tracker.run_url(grid.study, run_id)
        links = {name: mlflow_tracker.run_url(grid.study, run_id, f"artifacts/{artifact[name]}") for name in plots}
        context.log.info(f"{report.message}; {coverage}")
        uninformative = report.uninformative
        informative = AssetCheckResult(
            check_name=INFORMATIVE_CHECK, passed=not uninformative, severity=AssetCheckSeverity.WARN,
            description=("; ".join(f"{key}: {reason}" for key, reason in sorted(uninformative.items()))
                         or "every benchmark tells some runs apart"),
            metadata={"uninformative": len(uninformative), "benchmarks": ", ".join(sorted(uninformative)) or "-"})
        return MaterializeResult(check_results=[informative], metadata={
            "coverage": coverage, "cells": cells_total, "cells_scored": cells_total - len(unscored),
            "cells_unscored": len(unscored), "unscored": ", ".join(unscored) or "none",
            "scores": scores_table(report.scores, report.performance),
            "correlations_table": correlations_table(report),
            **({"verdicts_table": verdicts_table(report.pairs)} if report.pairs else {}),
            "points": report.points, "runs": len(cells) + len(reference_rows), "selections": len(selections),
            "message": report.message, "performance": report.performance,
            "plots": MetadataValue.md(plots_markdown(plots, links)),
            "correlations": MetadataValue.md(coverage + "\n\n" + report.markdown()),
            "verdicts": MetadataValue.md(report.scores_markdown() or report.verdict_note),
            "pairs_told_apart": sum(1 for p in report.pairs if p.get("verdict") != "indistinguishable"),
            "pairs": len(report.pairs),
            **location_metadata(out_dir), "report_dir": MetadataValue.path(str(out_dir)),  # the main job reads it
            "mlflow_run": MetadataValue.url(run_url),
            "mlflow_comparison": MetadataValue.url(mlflow_tracker.comparison_url(grid.study))})

    return [diversity_correlation]
