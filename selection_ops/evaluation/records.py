"""One model's evaluation as one typed record (``ScoreRecord``) and its two serialisations, MLflow metrics
(``evaluation_metrics``) and Dagster metadata (``evaluation_metadata``): the only module that writes those names.
The main job's table reads the assets' typed values into records; the report reads the MLflow names back with
``score_key``.

MLflow: ``bench.<key>`` (native scale; the likelihood channel's proxy scores too, never in the averages),
``bench.<key>.stderr``, ``bench.<key>.n``, ``parse_rate.<key>`` (preference benchmarks), and MIG Appx. A.4's
``avg_obj``, ``avg_sub``, ``avg`` with their ``.stderr``. Dagster metadata: per benchmark ``<key>/score``,
``<key>/stderr``, ``<key>/n`` and, for preference benchmarks, ``<key>/judge`` and ``<key>/parse_rate``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from selection_ops.evaluation.a4 import a4_part, a4_scores

BENCH = "bench."  # MLflow: bench.<key>, bench.<key>.stderr, bench.<key>.n
PARSE_RATE = "parse_rate."
STDERR = ".stderr"
COUNT = ".n"


def score_column(key: str) -> str:
    """The MLflow metric (and report column) of benchmark ``key``'s score: ``bench.<key>``."""
    return f"{BENCH}{key}"


def score_key(column: str) -> str | None:
    """``bench.<key>`` -> ``key``; None for anything else (a ``.stderr`` / ``.n`` companion, another metric).
    Benchmark keys have no dots (``selection_ops.evaluation.benchmarks``), so the split is exact."""
    if not column.startswith(BENCH):
        return None
    key = column.removeprefix(BENCH)
    return key if key and "." not in key else None


@dataclass(frozen=True)
class ScoreRecord:
    """One model's scores on native scales (benchmark key -> score) with their standard errors, counts, judge
    parse rates and judge: what the assets hand on, MLflow records and the table and report show.

    ``averages()``: MIG Appx. A.4's Avg_obj, Avg_sub and Avg (with standard errors) over the A.4 benchmarks among
    ``scores``; proxy scores (the likelihood channel) are carried and never averaged."""

    scores: Mapping[str, float]
    stderr: Mapping[str, float] = field(default_factory=dict)
    n: Mapping[str, int] = field(default_factory=dict)
    parse_rate: Mapping[str, float] = field(default_factory=dict)
    judge: str | None = None

    def merged(self, other: ScoreRecord) -> ScoreRecord:
        """Both halves of one model (knowledge, then preference): ``other``'s entries win on a shared key."""
        return ScoreRecord({**self.scores, **other.scores}, {**self.stderr, **other.stderr}, {**self.n, **other.n},
                           {**self.parse_rate, **other.parse_rate}, other.judge or self.judge)

    def averages(self) -> dict[str, float]:
        return a4_scores(a4_part(self.scores), self.stderr).columns()


def _finite(value: float) -> bool:
    return value is not None and math.isfinite(float(value))


def evaluation_metrics(scores: Mapping[str, float], stderr: Mapping[str, float], n: Mapping[str, int],
                       parse_rate: Mapping[str, float] | None = None) -> dict[str, float]:
    """Flat MLflow metrics for native scores of any benchmarks (NaN standard errors are left out)."""
    metrics: dict[str, float] = {}
    for key, value in scores.items():
        metrics[score_column(key)] = float(value)
        if _finite(stderr.get(key, math.nan)):
            metrics[f"{score_column(key)}{STDERR}"] = float(stderr[key])
        if key in n:
            metrics[f"{score_column(key)}{COUNT}"] = float(n[key])
    for key, rate in (parse_rate or {}).items():
        metrics[f"{PARSE_RATE}{key}"] = float(rate)
    for name, value in ScoreRecord(scores, stderr).averages().items():
        if _finite(value):
            metrics[name] = float(value)
    return metrics


def evaluation_metadata(scores: Mapping[str, float], stderr: Mapping[str, float], n: Mapping[str, int],
                        judge: str | None = None, parse_rate: Mapping[str, float] | None = None) -> dict[str, object]:
    """Per-benchmark Dagster metadata values (plain numbers and strings)."""
    metadata: dict[str, object] = {}
    for key, value in scores.items():
        metadata[f"{key}/score"] = float(value)
        metadata[f"{key}/stderr"] = float(stderr.get(key, math.nan))
        metadata[f"{key}/n"] = int(n.get(key, 0))
        if parse_rate and key in parse_rate:
            metadata[f"{key}/parse_rate"] = float(parse_rate[key])
            metadata[f"{key}/judge"] = str(judge)
    return metadata
