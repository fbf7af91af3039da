"""The study's comparison figure: one panel per (diversity metric, target), the targets being the report's
performance column and each proxy benchmark; nothing drawn when there is nothing to compare."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from selection_ops.comparison_plot import DPI, PANEL_INCHES, comparison_figure
from selection_ops.report import correlation_report


def runs(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    return pd.DataFrame({
        "partition": [f"sel{i}__b8__m" for i in range(n)],
        "diversity.novelsum": rng.random(n), "diversity.vendi": rng.random(n),
        "diversity.distsum_cosine": rng.random(n),
        "bench.arc_c": 30 + rng.random(n), "bench.arc_c.n": 60,
        "bench.ref_bpb_alpaca": 0.65 + rng.random(n) / 100, "bench.ref_bpb_alpaca.stderr": 0.002,
    })


def test_the_report_draws_each_metric_against_the_performance_and_every_proxy(tmp_path: Path) -> None:
    report = correlation_report(runs(4), tmp_path)
    path = report.plots["comparison"]
    assert path == tmp_path / "comparison.png"
    width, height = Image.open(path).size
    # 3 metrics x 2 targets (the performance column and the reference-bpb proxy)
    assert (round(width / (PANEL_INCHES[0] * DPI)), round(height / (PANEL_INCHES[1] * DPI))) == (2, 3)


def test_nothing_to_compare_draws_nothing(tmp_path: Path) -> None:
    table = runs(3).assign(run=lambda t: t["partition"])
    assert comparison_figure(table, ["diversity.novelsum"], ["avg"], tmp_path / "c.png") is None  # no such target
    assert comparison_figure(table, [], ["bench.arc_c"], tmp_path / "c.png") is None
    assert not (tmp_path / "c.png").exists()
    drawn = comparison_figure(table, ["diversity.novelsum"], ["bench.arc_c"], tmp_path / "c.png")
    assert drawn is not None and Image.open(drawn).size == (round(PANEL_INCHES[0] * DPI), round(PANEL_INCHES[1] * DPI))


def test_the_papers_metrics_come_first_and_rows_are_capped(tmp_path: Path) -> None:
    from selection_ops.comparison_plot import MAX_METRICS, panel_metrics

    table = runs(3).assign(run=lambda t: t["partition"])
    for i in range(MAX_METRICS):  # more metrics than rows, all sorting before the papers' names
        table[f"diversity.a{i}"] = np.arange(3.0) + i
    table["diversity.empty"] = np.nan
    metrics = sorted(c for c in table if c.startswith("diversity."))
    rows = panel_metrics(table, metrics)
    assert rows[:3] == ["diversity.novelsum", "diversity.vendi", "diversity.distsum_cosine"]
    assert rows[3:] == ["diversity.a0", "diversity.a1", "diversity.a2"] and len(rows) == MAX_METRICS
    drawn = comparison_figure(table, metrics, ["bench.arc_c"], tmp_path / "c.png")
    assert Image.open(drawn).size[1] == round(MAX_METRICS * PANEL_INCHES[1] * DPI)
