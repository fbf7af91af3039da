"""The study's comparison figure: each selector's diversity metrics against the score it trained to, with error bars.

One panel per (diversity metric, target): the target is the report's performance column (Avg, Avg_obj, ...) and
each low-noise proxy benchmark (reference bits per byte, cloze correct-prob: ``report.proxy_keys``). A point is
one evaluated run (a cell, its seeds pooled), labelled with its variant; its vertical bar is 95 % of the run's own
score (1.96 standard errors of ``<target>.stderr``, none where the table has no standard error). Whether two runs
differ is the paired verdicts' question; the figure shows what the correlations are computed over.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from selection_ops.foundation.atomic import atomic_path
from selection_ops.study.cells import variant_of

MAX_METRICS = 6  # rows of panels; the report's scatters show every metric on its own
HEADLINE_METRICS = ("novelsum", "vendi", "mig_information", "distsum_cosine")  # drawn first (the papers' metrics)
PANEL_INCHES = (3.2, 2.6)
DPI = 90


def panel_metrics(points: pd.DataFrame, metrics: Sequence[str]) -> list[str]:
    """The rows of the figure: the metrics of ``points`` with a value, ``HEADLINE_METRICS`` first, then the others
    in the given order, at most ``MAX_METRICS``."""
    drawable = [m for m in metrics if m in points and points[m].notna().any()]
    headline = [f"diversity.{name}" for name in HEADLINE_METRICS if f"diversity.{name}" in drawable]
    return (headline + [m for m in drawable if m not in headline])[:MAX_METRICS]


def comparison_figure(points: pd.DataFrame, metrics: Sequence[str], targets: Sequence[str], path: Path) -> Path | None:
    """Draw ``metrics`` (``diversity.<name>`` columns; ``HEADLINE_METRICS`` first, at most ``MAX_METRICS``) x
    ``targets`` (score columns) of ``points`` (one row per run, a ``run`` column) into ``path`` (PNG, written
    atomically); None when there is nothing to draw."""
    metrics = panel_metrics(points, metrics)
    targets = [t for t in targets if t in points and points[t].notna().any()]
    if not metrics or not targets:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(metrics), len(targets), squeeze=False,
                             figsize=(PANEL_INCHES[0] * len(targets), PANEL_INCHES[1] * len(metrics)))
    for row, metric in enumerate(metrics):
        for col, target in enumerate(targets):
            ax = axes[row][col]
            shown = points.dropna(subset=[metric, target])
            stderr = shown.get(f"{target}.stderr", pd.Series(math.nan, index=shown.index)).astype(float).fillna(0.0)
            ax.errorbar(shown[metric], shown[target], yerr=1.96 * stderr, fmt="o", capsize=3, markersize=4)
            for x, y, run in zip(shown[metric], shown[target], shown["run"]):
                ax.annotate(variant_of(str(run)), (x, y), fontsize=6, xytext=(3, 3), textcoords="offset points")
            ax.set_xlabel(metric.removeprefix("diversity."), fontsize=8)
            ax.set_ylabel(target.removeprefix("bench."), fontsize=8)
            ax.tick_params(labelsize=7)
    fig.suptitle(f"diversity vs scores over {len(points)} runs (bars: 95 %, 1.96 standard errors of each run)",
                 fontsize=9)
    fig.tight_layout()
    with atomic_path(Path(path)) as temporary:
        fig.savefig(temporary, dpi=DPI, format="png")
    plt.close(fig)
    return Path(path)
