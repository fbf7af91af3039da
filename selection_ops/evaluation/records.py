"""One model's evaluation as MLflow metrics and Dagster metadata: the names the report reads back.

MLflow: ``bench.<key>`` (native scale; the likelihood channel's proxy scores too, never in the averages),
``bench.<key>.stderr``, ``bench.<key>.n``, ``parse_rate.<key>`` (preference benchmarks), and MIG Appx. A.4's
``avg_obj``, ``avg_sub``, ``avg`` with their ``.stderr``. Dagster metadata: per benchmark ``<key>/score``,
``<key>/stderr``, ``<key>/n`` and, for preference benchmarks, ``<key>/judge`` and ``<key>/parse_rate``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from selection_ops.evaluation.a4 import a4_part, a4_scores


def _finite(value: float) -> bool:
    return value is not None and math.isfinite(float(value))


def evaluation_metrics(scores: Mapping[str, float], stderr: Mapping[str, float], n: Mapping[str, int],
                       parse_rate: Mapping[str, float] | None = None) -> dict[str, float]:
    """Flat MLflow metrics for native scores of any benchmarks (NaN standard errors are left out)."""
    metrics: dict[str, float] = {}
    for key, value in scores.items():
        metrics[f"bench.{key}"] = float(value)
        if _finite(stderr.get(key, math.nan)):
            metrics[f"bench.{key}.stderr"] = float(stderr[key])
        if key in n:
            metrics[f"bench.{key}.n"] = float(n[key])
    for key, rate in (parse_rate or {}).items():
        metrics[f"parse_rate.{key}"] = float(rate)
    for name, value in a4_scores(a4_part(scores), stderr).columns().items():
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
