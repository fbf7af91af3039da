"""The invariants of each stage, as plain functions returning Dagster ``AssetCheckResult``s.

The assets declare the matching ``AssetCheckSpec``s (``SPECS``) and yield these results beside their output, so
the checks show in the UI next to the asset; a failing check's description names the partition and the value.
Selection checks are blocking: training never starts on a selection of the wrong size or with foreign ids.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from dagster import AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, AssetKey

# Known ranges of annotation columns; any other numeric column is only required to be finite.
ANNOTATION_RANGES: dict[str, tuple[float, float]] = {
    "quality_handcrafted": (0.0, 1.0),
    "quality_distinct2": (0.0, 1.0),
    "quality_repetition": (0.0, 1.0),
    "deita_quality": (1.0, 6.0),
    "deita_complexity": (1.0, 6.0),
}
ISOLATED_WARN_FRACTION = 0.9
JUDGE_PARSE_RATE_MIN = 0.9


def _result(name: str, passed: bool, where: str, detail: str, severity=AssetCheckSeverity.ERROR,
            asset_key: AssetKey | None = None, **metadata) -> AssetCheckResult:
    text = f"{where}: {detail}" if not passed else f"{where}: ok ({detail})"
    return AssetCheckResult(check_name=name, passed=passed, severity=severity, description=text,
                            asset_key=asset_key, metadata={"partition": where, **metadata})


# --- selection (blocking) ------------------------------------------------------------------------------------------

def selection_checks(ids: Sequence[str], pool_ids: Iterable[str], budget: int, *, allows_repeats: bool,
                     partition: str) -> list[AssetCheckResult]:
    """Exactly ``budget`` ids; no repeats (but for a selector that repeats on purpose, Duplicate); all in the pool."""
    size = len(ids)
    repeats = size - len(set(ids))
    pool = set(pool_ids)
    foreign = [i for i in ids if i not in pool]
    return [
        _result("selection_has_budget", size == budget, partition, f"{size} ids selected, budget {budget}",
                selected=size, budget=budget),
        _result("selection_ids_unique", allows_repeats or repeats == 0, partition,
                f"{repeats} repeated ids" + (" (allowed for this selector)" if allows_repeats else ""),
                repeated=repeats),
        _result("selection_ids_in_pool", not foreign, partition,
                f"{len(foreign)} ids not in the pool" + (f", e.g. {foreign[:3]}" if foreign else ""),
                foreign=len(foreign)),
    ]


# --- annotations ---------------------------------------------------------------------------------------------------

def annotation_checks(frame: pd.DataFrame, expected_dim: int | None,
                      ranges: Mapping[str, tuple[float, float]] = ANNOTATION_RANGES) -> list[AssetCheckResult]:
    """Every numeric score finite and inside its known range; every embedding with the expected dimension."""
    problems = []
    for column in frame.columns:
        if column in ("id", "labels", "embedding") or not pd.api.types.is_numeric_dtype(frame[column]):
            continue
        values = frame[column].to_numpy(dtype=float)
        bad = ~np.isfinite(values)
        low, high = ranges.get(column, (-math.inf, math.inf))
        bad |= (values < low) | (values > high)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            problems.append(f"{column}={values[row]!r} for id {frame['id'].iloc[row]!r} (range [{low}, {high}]); "
                            f"{int(bad.sum())} such rows")
    dims = frame["embedding"].map(len) if "embedding" in frame else pd.Series(dtype=int)
    dim_set = sorted(set(dims.tolist()))
    dim_ok = bool(len(dim_set) == 1 and dim_set[0] > 0 and (expected_dim is None or dim_set[0] == expected_dim))
    embeddings_finite = bool(len(dims) and np.isfinite(np.stack(frame["embedding"].to_numpy())).all()) if dim_ok \
        else False
    return [
        _result("annotation_scores_in_range", not problems, "annotations", "; ".join(problems) or "all finite",
                bad_columns=len(problems)),
        _result("embeddings_have_expected_dimension", dim_ok and embeddings_finite, "annotations",
                f"dimensions {dim_set}, expected {expected_dim}" + ("" if embeddings_finite or not dim_ok
                                                                     else ", non-finite values"),
                expected_dim=-1 if expected_dim is None else expected_dim),
    ]


# --- label graph ---------------------------------------------------------------------------------------------------

def label_graph_checks(stats: Mapping[str, float]) -> list[AssetCheckResult]:
    """At least one label; over 90% isolated labels warns that the threshold does not suit the embedder."""
    n_labels = int(stats["n_labels"])
    isolated = float(stats["n_isolated_labels"]) / n_labels if n_labels else 1.0
    return [
        _result("label_graph_has_labels", n_labels > 0, "label_graph", f"{n_labels} labels", n_labels=n_labels),
        _result("label_graph_not_mostly_isolated", isolated <= ISOLATED_WARN_FRACTION, "label_graph",
                f"{isolated:.0%} of labels are isolated at threshold {stats.get('threshold')}: the threshold is "
                "too high for this embedder's similarities" if isolated > ISOLATED_WARN_FRACTION
                else f"{isolated:.0%} isolated", severity=AssetCheckSeverity.WARN, isolated_fraction=isolated),
    ]


# --- training and evaluation ---------------------------------------------------------------------------------------

def training_checks(loss_history: Sequence[tuple[int, float]], partition: str,
                    asset_key: AssetKey | None = None) -> list[AssetCheckResult]:
    """Every logged loss finite (an error), and the last lower than the first (a warning: within one epoch every
    step sees a different batch, so four steps of a 32-sample budget can end above where they began while the model
    learns; over several epochs a loss that never falls is worth a look)."""
    losses = [loss for _, loss in loss_history]
    finite = bool(losses) and all(math.isfinite(v) for v in losses)
    decreased = finite and len(losses) >= 2 and losses[-1] < losses[0]
    first, last = (losses[0], losses[-1]) if losses else (float("nan"), float("nan"))
    return [
        _result("training_loss_finite", finite, partition, f"{len(losses)} logged losses, last {last}",
                asset_key=asset_key, steps=len(losses)),
        _result("training_loss_decreased", decreased, partition, f"loss {first} at the start, {last} at the end",
                severity=AssetCheckSeverity.WARN, asset_key=asset_key, first=float(first), last=float(last)),
    ]


def evaluation_checks(requested: Sequence[str], scores: Mapping[str, float], partition: str,
                      asset_key: AssetKey | None = None) -> list[AssetCheckResult]:
    """Every requested benchmark has a score in [0, 100]; a likelihood dataset key (``arc_c_cloze``) has a finite
    value for each score key it yields (a margin may be negative, bits per byte above 1)."""
    from selection_ops.evaluation.benchmarks import LIKELIHOOD_BENCHMARKS

    def valid(key: str) -> bool:
        if key not in scores or not math.isfinite(float(scores[key])):
            return False
        return key in proxy or 0.0 <= float(scores[key]) <= 100.0

    proxy = {s for b in requested if b in LIKELIHOOD_BENCHMARKS for s in LIKELIHOOD_BENCHMARKS[b].score_keys}
    expected = [b for b in requested if b not in LIKELIHOOD_BENCHMARKS] + sorted(proxy)
    missing = [b for b in expected if not valid(b)]
    return [_result("every_benchmark_scored", not missing, partition,
                    f"benchmarks without a valid score: {missing}" if missing else f"{len(scores)} scored",
                    asset_key=asset_key, missing=len(missing))]


def judge_parse_rate_check(parse_rate: float, partition: str, threshold: float = JUDGE_PARSE_RATE_MIN,
                           asset_key: AssetKey | None = None) -> AssetCheckResult:
    """The share of judge replies whose verdict parsed; below ``threshold`` the preference scores are unreliable.
    For the ``preference_scores`` asset (declare ``SPECS['judge_parse_rate']`` on it)."""
    return _result("judge_parse_rate", parse_rate >= threshold, partition,
                   f"judge parse rate {parse_rate:.2%}, threshold {threshold:.0%}", asset_key=asset_key,
                   parse_rate=float(parse_rate))


def specs(asset: AssetKey | str, names: Iterable[str], blocking: bool = False) -> list[AssetCheckSpec]:
    key = AssetKey.from_coercible(asset)
    return [AssetCheckSpec(name, asset=key, blocking=blocking, description=DESCRIPTIONS[name]) for name in names]


DESCRIPTIONS = {
    "selection_has_budget": "the selection has exactly the budget",
    "selection_ids_unique": "no id is selected twice (but for Duplicate, which repeats on purpose)",
    "selection_ids_in_pool": "every selected id is in the pool",
    "annotation_scores_in_range": "every numeric annotation is finite and inside its known range",
    "embeddings_have_expected_dimension": "every embedding has the embedder's dimension and finite values",
    "label_graph_has_labels": "the label graph has labels",
    "label_graph_not_mostly_isolated": "warns when over 90% of labels have no edge (threshold wrong for the embedder)",
    "training_loss_finite": "every logged training loss is finite",
    "training_loss_decreased": "the last logged loss is lower than the first",
    "every_benchmark_scored": "every requested benchmark has a score in [0, 100]",
    "judge_parse_rate": "the judge's verdicts parsed for enough replies",
}
SELECTION_CHECKS = ("selection_has_budget", "selection_ids_unique", "selection_ids_in_pool")
ANNOTATION_CHECKS = ("annotation_scores_in_range", "embeddings_have_expected_dimension")
LABEL_GRAPH_CHECKS = ("label_graph_has_labels", "label_graph_not_mostly_isolated")
TRAINING_CHECKS = ("training_loss_finite", "training_loss_decreased")
EVALUATION_CHECKS = ("every_benchmark_scored",)
