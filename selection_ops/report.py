"""The report: MIG Appx. A.4's columns with their noise, and each diversity metric against the performance.

Rows are runs (trained selections, the untuned base model, the full pool), named by ``run``; columns
``bench.<key>`` on native scales (keys of ``selection_ops.evaluation.benchmarks``; optional ``bench.<key>.stderr``
and ``bench.<key>.n``), ``diversity.<metric>``. The report adds Avg_obj / Avg_sub / Avg and their standard errors
(``selection_ops.evaluation.a4``), ``zsum`` (NovelSum Eq. 5 over the bench columns present), states per pair of
runs whether their Avg differs beyond twice the combined standard error, and correlates every diversity metric
with the performance (Pearson, Spearman, their mean: NovelSum Eq. 6), with a scatter plot each. With fewer than
three points no correlation is meaningful: the report says so instead of failing. The Dagster report asset and
``infosift report`` both call ``correlation_report``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from selection_ops.evaluation.a4 import a4_scores, compare_pairs, native_stderr
from selection_ops.evaluation.benchmarks import OBJECTIVE_KEYS, PREFERENCE_KEYS
from selection_ops.foundation.atomic import write_text_atomic

MIN_POINTS = 3
KNOWN_KEYS = (*OBJECTIVE_KEYS, *PREFERENCE_KEYS)
A4_COLUMNS = ("avg_obj", "avg_obj.stderr", "avg_sub", "avg_sub.stderr", "avg", "avg.stderr")


def runs_table(runs: Iterable) -> pd.DataFrame:
    """MLflow runs (``mlflow.entities.Run``) -> one row per run with its tags, params and metrics. ``seed`` is the
    selection's seed, ``train_seed`` the fine-tune's, ``cell`` the same for every seed of one trained cell (None for
    runs without one: selections, reference rows)."""
    rows = []
    for run in runs:
        partition = run.data.tags.get("infosift.partition")
        params = run.data.params
        row = {"run": partition or run.info.run_name or run.info.run_id, "run_id": run.info.run_id,
               "partition": partition, "selector": params.get("selector"), "budget": params.get("budget"),
               "base_model": params.get("base_model"), "seed": params.get("seed"),
               "train_seed": params.get("train_seed"), "cell": params.get("cell")}
        row.update(run.data.metrics)
        rows.append(row)
    return pd.DataFrame(rows)


def _bench_keys(table: pd.DataFrame) -> list[str]:
    """Score columns ``bench.<key>`` (not their ``.stderr`` / ``.n`` companions), in the table's order."""
    return [c for c in table.columns if c.startswith("bench.") and c.count(".") == 1]


def add_a4_columns(table: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``table`` with ``bench.<key>.stderr`` filled where only n is known (binomial benchmarks), the A.4
    columns computed from the known benchmarks (values the table already has are kept: a run's own record wins) and
    ``zsum`` over every bench column when there are at least two runs."""
    table = table.copy()
    for column in _bench_keys(table):
        key = column.removeprefix("bench.")
        if key not in KNOWN_KEYS:
            continue
        derived = [native_stderr(key, float(v), int(n)) if np.isfinite(n) else math.nan
                   for v, n in zip(table[column], table.get(f"{column}.n", pd.Series(math.nan, index=table.index)))]
        given = table.get(f"{column}.stderr", pd.Series(math.nan, index=table.index)).astype(float)
        table[f"{column}.stderr"] = given.where(given.notna(), derived)
    computed = []
    for _, row in table.iterrows():
        native = {k: float(row[f"bench.{k}"]) for k in KNOWN_KEYS
                  if f"bench.{k}" in row and pd.notna(row[f"bench.{k}"])}
        stderr = {k: float(row.get(f"bench.{k}.stderr", math.nan)) for k in native}
        computed.append(a4_scores(native, stderr).columns())
    computed = pd.DataFrame(computed, index=table.index)
    for column in A4_COLUMNS:
        table[column] = (table[column].where(table[column].notna(), computed[column]) if column in table
                         else computed[column])
    benches = _bench_keys(table)
    if benches and len(table) >= 2:
        from selection_ops.correlation import aggregate_performance

        table["zsum"] = aggregate_performance({b: table[b].to_numpy(dtype=float) for b in benches})
    return table


def default_performance(table: pd.DataFrame) -> str:
    """``avg`` when some run has both halves, else ``avg_obj``."""
    return "avg" if "avg" in table and table["avg"].notna().any() else "avg_obj"


def significance(table: pd.DataFrame, column: str) -> list[dict[str, object]]:
    """Per pair of runs: the difference of ``column``, its combined se and whether it exceeds 2 se."""
    rows = table.dropna(subset=[column]) if column in table else table.iloc[0:0]
    stderr = rows.get(f"{column}.stderr", pd.Series(math.nan, index=rows.index))
    return [c.as_dict() for c in compare_pairs(list(rows["run"]), list(rows[column]), list(stderr))]


@dataclass
class CorrelationReport:
    points: int
    message: str
    correlations: dict[str, dict[str, float]] = field(default_factory=dict)  # metric -> pearson/spearman/mean
    reasons: dict[str, str] = field(default_factory=dict)  # metric -> why its correlation is undefined (NaN)
    plots: dict[str, Path] = field(default_factory=dict)
    left_out: dict[str, str] = field(default_factory=dict)  # metric -> why it is not in the table (constant_metrics)
    performance: str = "avg_obj"
    scores: list[dict[str, object]] = field(default_factory=list)  # per run: A.4 columns and stderrs
    pairs: list[dict[str, object]] = field(default_factory=list)  # significance of the Avg differences

    def flat_metrics(self) -> dict[str, float]:
        return {f"{metric}.{kind}": value for metric, values in self.correlations.items()
                for kind, value in values.items() if value is not None and math.isfinite(value)}

    def scores_markdown(self) -> str:
        """Runs with Avg_obj / Avg_sub / Avg +- standard error, and the pairs whose Avg differs beyond noise."""
        if not self.scores:
            return ""

        def cell(row: dict, name: str) -> str:
            value, se = row.get(name), row.get(f"{name}.stderr")
            if value is None or not math.isfinite(value):
                return "-"
            return f"{value:.2f}" + (f" ± {se:.2f}" if se is not None and math.isfinite(se) else "")

        def parse_rates(row: dict) -> str:
            rates = [f"{k.removeprefix('parse_rate.')} {v:.0%}" for k, v in row.items()
                     if k.startswith("parse_rate.") and v is not None and math.isfinite(v)]
            return ", ".join(rates) or "-"

        lines = ["| run | Avg_obj | Avg_sub | Avg | judge parse rate |", "|---|---|---|---|---|"]
        lines += [f"| {r['run']} | {cell(r, 'avg_obj')} | {cell(r, 'avg_sub')} | {cell(r, 'avg')} | "
                  f"{parse_rates(r)} |" for r in self.scores]
        beyond = [p for p in self.pairs if p["significant"]]
        lines.append("")
        lines.append(f"{len(beyond)} of {len(self.pairs)} pairs differ by more than 2 combined standard errors"
                     + (": " + ", ".join(f"{p['run_a']} vs {p['run_b']}" for p in beyond) if beyond else ""))
        return "\n".join(lines)

    def markdown(self) -> str:
        left_out = "".join(f"\n- left out: {metric} ({reason})" for metric, reason in sorted(self.left_out.items()))
        scores = self.scores_markdown()
        if not self.correlations:
            return self.message + left_out + ("\n\n" + scores if scores else "")
        lines = ["| metric | Pearson | Spearman | mean |", "|---|---|---|---|"]
        for metric, v in sorted(self.correlations.items(), key=lambda kv: -_nan_last(kv[1]["mean"])):
            if metric in self.reasons:
                lines.append(f"| {metric} | - | - | - ({self.reasons[metric]}) |")
            else:
                lines.append(f"| {metric} | {v['pearson']:.3f} | {v['spearman']:.3f} | {v['mean']:.3f} |")
        return self.message + left_out + "\n\n" + (scores + "\n\n" if scores else "") + "\n".join(lines)


def _nan_last(value: float) -> float:
    return value if math.isfinite(value) else -math.inf


def correlation_report(table: pd.DataFrame, out_dir: Path, performance: str | None = None) -> CorrelationReport:
    """The whole report of ``table`` (see the module doc) into ``out_dir``: ``table.csv`` (with the A.4 columns and
    ``zsum``), ``report.json``, ``scores.png`` and one ``scatter_<metric>.png`` per diversity metric.

    ``performance``: ``avg``, ``avg_obj``, ``avg_sub``, ``zsum`` or any column; default ``default_performance``.
    With several ``bench.*`` columns each metric is also correlated with ``zsum``, reported as ``<metric>.vs_zsum``.
    """
    from selection_ops.correlation import constant_metrics, correlate

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    table = table.copy()
    if "run" not in table:
        table["run"] = table["partition"] if "partition" in table else [f"run{i}" for i in range(len(table))]
    table = add_a4_columns(table)
    performance = performance or default_performance(table)
    if performance not in table:
        raise ValueError(f"performance column {performance!r} is not in the table (columns: {list(table.columns)})")
    metrics = sorted(c for c in table.columns if c.startswith("diversity."))
    # correlation points: evaluated runs with a diversity value (the untuned baseline has none; it is a score row)
    evaluated = table.dropna(subset=[performance])
    evaluated = evaluated[evaluated[metrics].notna().any(axis=1)] if metrics else evaluated.iloc[0:0]
    write_text_atomic(out_dir / "table.csv", table.to_csv(index=False))
    left_out = constant_metrics({c.removeprefix("diversity."): evaluated[c].to_numpy() for c in metrics})
    metrics = [c for c in metrics if c.removeprefix("diversity.") not in left_out]
    n = len(evaluated)
    if n < MIN_POINTS:
        report = CorrelationReport(n, f"{n} evaluated run(s): at least {MIN_POINTS} are needed for a "
                                      "correlation; none computed.", performance=performance)
    else:
        report = CorrelationReport(n, f"correlations of {len(metrics)} diversity metrics with {performance} over "
                                      f"{n} evaluated runs", performance=performance)
        for column in metrics:
            values = evaluated[[column, performance]].dropna()
            result = correlate(values[column].to_numpy(), values[performance].to_numpy())
            name = column.removeprefix("diversity.")
            report.correlations[name] = {"pearson": result.pearson, "spearman": result.spearman, "mean": result.mean}
            if result.reason:
                report.reasons[name] = result.reason
            report.plots[name] = _scatter(values[column], values[performance], evaluated.loc[values.index, "run"],
                                          name, performance, result.mean, out_dir / f"scatter_{name}.png")
        if len(_bench_keys(evaluated)) > 1 and performance != "zsum":
            for column in metrics:
                result = correlate(evaluated[column].to_numpy(), evaluated["zsum"].to_numpy())
                name = column.removeprefix("diversity.") + ".vs_zsum"
                report.correlations[name] = {"pearson": result.pearson, "spearman": result.spearman,
                                             "mean": result.mean}
                if result.reason:
                    report.reasons[name] = result.reason
    score_columns = ["run", *[c for c in table.columns if c.startswith("bench.") or c.startswith("parse_rate.")],
                     *A4_COLUMNS, *(["zsum"] if "zsum" in table else [])]
    report.scores = [{k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}
                     for row in table[score_columns].to_dict("records")]
    compared = "avg" if table["avg"].notna().any() else "avg_obj"
    report.pairs = significance(table, compared)
    if table[compared].notna().any():
        report.plots["scores"] = _scores_plot(table, compared, out_dir / "scores.png")
    write_text_atomic(out_dir / "report.json", json.dumps(
        {"points": report.points, "message": report.message, "performance": performance,
         "correlations": report.correlations, "undefined": report.reasons, "left_out": left_out,
         "scores": report.scores, "significance": {"column": compared, "pairs": report.pairs}},
        indent=2, default=_json_default))
    report.left_out = left_out
    return report


def report_from_csv(runs_csv: Path, out_dir: Path, performance: str | None = None) -> CorrelationReport:
    """``infosift report``: read the table (a ``run`` column, unique names), then ``correlation_report``."""
    if not Path(runs_csv).is_file():
        raise FileNotFoundError(f"--runs {runs_csv}: no such file")
    table = pd.read_csv(runs_csv)
    if "run" not in table:
        raise ValueError(f"{runs_csv}: no 'run' column (columns: {list(table.columns)})")
    duplicated = table["run"][table["run"].duplicated()].tolist()
    if duplicated:
        raise ValueError(f"{runs_csv}: column 'run' repeats {duplicated[:5]}")
    for column in table.columns:
        if (column.startswith("bench.") or column.startswith("diversity.")) and table[column].dtype == object:
            bad = table.loc[pd.to_numeric(table[column], errors="coerce").isna() & table[column].notna(), "run"]
            raise ValueError(f"{runs_csv}: run {bad.iloc[0]!r}, field {column!r} is not a number")
    return correlation_report(table, out_dir, performance)


def _json_default(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _scores_plot(table: pd.DataFrame, column: str, path: Path) -> Path:
    """Bars of ``column`` per run with +-2 standard errors (what the significance statement compares)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = table.dropna(subset=[column])
    stderr = rows.get(f"{column}.stderr", pd.Series(math.nan, index=rows.index)).fillna(0.0)
    fig, ax = plt.subplots(figsize=(max(4, 0.8 * len(rows) + 2), 4))
    ax.bar(rows["run"].astype(str), rows[column], yerr=2 * stderr, capsize=4)
    ax.set_ylabel(f"{column} (error bars: 2 standard errors)")
    ax.tick_params(axis="x", rotation=45)
    fig.tight_layout()
    with atomic_png(path) as temporary:
        fig.savefig(temporary, dpi=100, format="png")
    plt.close(fig)
    return path


def atomic_png(path: Path):
    """``atomic_path`` for a figure: saved under a temporary name, renamed when complete."""
    from selection_ops.foundation.atomic import atomic_path

    return atomic_path(path)


def _scatter(x: pd.Series, y: pd.Series, labels: pd.Series, metric: str, performance: str, mean_corr: float,
             path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 4))
    ax.scatter(x, y)
    for xi, yi, label in zip(x, y, labels):
        ax.annotate(str(label).split("__")[0], (xi, yi), fontsize=7)
    ax.set_xlabel(metric)
    ax.set_ylabel(performance)
    ax.set_title(f"{metric} vs {performance} (mean corr {mean_corr:.2f})")
    fig.tight_layout()
    with atomic_png(path) as temporary:
        fig.savefig(temporary, dpi=100, format="png")
    plt.close(fig)
    return path
