"""The correlation report: each diversity metric of the trained selections against their benchmark average.

Rows are trained (selection, base model) pairs; columns ``diversity.<metric>``, ``bench.<benchmark>`` and
``avg_obj``. For each metric: Pearson, Spearman and their mean (NovelSum Eq. 6) against ``avg_obj``, plus a scatter
plot. With fewer than three points no correlation is meaningful: the report says so instead of failing.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from selection_ops.foundation.atomic import atomic_path, write_text_atomic

MIN_POINTS = 3


def runs_table(runs: Iterable) -> pd.DataFrame:
    """MLflow runs (``mlflow.entities.Run``) -> one row per run with its tags, params and metrics."""
    rows = []
    for run in runs:
        row = {"run_id": run.info.run_id, "partition": run.data.tags.get("infosift.partition"),
               "selector": run.data.params.get("selector"), "budget": run.data.params.get("budget"),
               "base_model": run.data.params.get("base_model")}
        row.update(run.data.metrics)
        rows.append(row)
    return pd.DataFrame(rows)


@dataclass
class CorrelationReport:
    points: int
    message: str
    correlations: dict[str, dict[str, float]] = field(default_factory=dict)  # metric -> pearson/spearman/mean
    reasons: dict[str, str] = field(default_factory=dict)  # metric -> why its correlation is undefined (NaN)
    plots: dict[str, Path] = field(default_factory=dict)
    left_out: dict[str, str] = field(default_factory=dict)  # metric -> why it is not in the table (constant_metrics)

    def flat_metrics(self) -> dict[str, float]:
        return {f"{metric}.{kind}": value for metric, values in self.correlations.items()
                for kind, value in values.items() if value is not None and math.isfinite(value)}

    def markdown(self) -> str:
        left_out = "".join(f"\n- left out: {metric} ({reason})" for metric, reason in sorted(self.left_out.items()))
        if not self.correlations:
            return self.message + left_out
        lines = ["| metric | Pearson | Spearman | mean |", "|---|---|---|---|"]
        for metric, v in sorted(self.correlations.items(), key=lambda kv: -_nan_last(kv[1]["mean"])):
            if metric in self.reasons:
                lines.append(f"| {metric} | - | - | - ({self.reasons[metric]}) |")
            else:
                lines.append(f"| {metric} | {v['pearson']:.3f} | {v['spearman']:.3f} | {v['mean']:.3f} |")
        return self.message + left_out + "\n\n" + "\n".join(lines)


def _nan_last(value: float) -> float:
    return value if math.isfinite(value) else -math.inf


def correlation_report(table: pd.DataFrame, out_dir: Path, performance: str = "avg_obj") -> CorrelationReport:
    """Correlate every ``diversity.*`` column of ``table`` with ``performance``; writes report.json, table.csv and
    one scatter PNG per metric into ``out_dir``. With several ``bench.*`` columns, each metric is also correlated
    with their z-score aggregate (NovelSum Eq. 5), reported as ``<metric>.vs_zsum``."""
    from selection_ops.correlation import aggregate_performance, constant_metrics, correlate

    out_dir.mkdir(parents=True, exist_ok=True)
    evaluated = table.dropna(subset=[performance]) if performance in table else table.iloc[0:0]
    with atomic_path(out_dir / "table.csv") as temporary:
        evaluated.to_csv(temporary, index=False)
    metrics = sorted(c for c in evaluated.columns if c.startswith("diversity."))
    left_out = constant_metrics({c.removeprefix("diversity."): evaluated[c].to_numpy() for c in metrics})
    metrics = [c for c in metrics if c.removeprefix("diversity.") not in left_out]
    n = len(evaluated)
    if n < MIN_POINTS:
        report = CorrelationReport(n, f"{n} evaluated selection(s): at least {MIN_POINTS} are needed for a "
                                      "correlation; none computed.")
    else:
        report = CorrelationReport(n, f"correlations of {len(metrics)} diversity metrics with {performance} over "
                                      f"{n} evaluated selections")
        for column in metrics:
            values = evaluated[[column, performance]].dropna()
            result = correlate(values[column].to_numpy(), values[performance].to_numpy())
            name = column.removeprefix("diversity.")
            report.correlations[name] = {"pearson": result.pearson, "spearman": result.spearman, "mean": result.mean}
            if result.reason:
                report.reasons[name] = result.reason
            report.plots[name] = _scatter(values[column], values[performance],
                                          evaluated.loc[values.index, "partition"], name, performance,
                                          result.mean, out_dir / f"scatter_{name}.png")
        benchmarks = sorted(c for c in evaluated.columns if c.startswith("bench."))
        if len(benchmarks) > 1:
            zsum = aggregate_performance({b: evaluated[b].to_numpy() for b in benchmarks})
            for column in metrics:
                result = correlate(evaluated[column].to_numpy(), zsum)
                name = column.removeprefix("diversity.") + ".vs_zsum"
                report.correlations[name] = {"pearson": result.pearson, "spearman": result.spearman,
                                             "mean": result.mean}
                if result.reason:
                    report.reasons[name] = result.reason
    write_text_atomic(out_dir / "report.json", json.dumps(
        {"points": report.points, "message": report.message, "correlations": report.correlations,
         "undefined": report.reasons, "left_out": left_out}, indent=2))
    report.left_out = left_out
    return report


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
    with atomic_path(path) as temporary:
        fig.savefig(temporary, dpi=100, format="png")
    plt.close(fig)
    return path
