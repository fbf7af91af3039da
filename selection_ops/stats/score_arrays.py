"""The per-question table (``selection_ops.evaluation.questions``) as arrays, one benchmark at a time.

Within a benchmark the questions are sorted by cluster (a question without a cluster is its own cluster), and each
run's scores form a (n_questions, n_seeds) matrix, NaN where that seed has no score for that question. A run's
per-question score is the mean over its seeds that answered it; its native benchmark score is
``question_scale(key)`` times the mean of those over the questions it answered.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from selection_ops.evaluation.questions import QUESTION_COLUMNS, question_scale
from selection_ops.stats.clustered import clustered_se

NO_SEED = ""


@dataclass(frozen=True)
class BenchmarkScores:
    """One benchmark's scores. ``questions`` (n,) ids sorted by cluster; ``cluster_codes`` (n,) non-decreasing
    ints in [0, clusters); ``per_seed``: run -> (n, k_run) scores; ``seeds``: run -> its k_run seed labels."""

    key: str
    questions: np.ndarray
    cluster_codes: np.ndarray
    clusters: int
    per_seed: dict[str, np.ndarray]
    seeds: dict[str, tuple[str, ...]]

    @property
    def scale(self) -> float:
        return question_scale(self.key)

    @property
    def clustered(self) -> bool:
        """Whether some cluster holds more than one question."""
        return self.clusters < len(self.questions)

    def seed_averaged(self, run: str) -> np.ndarray:
        """(n,) the run's per-question score averaged over its seeds; NaN where no seed answered."""
        matrix = self.per_seed[run]
        answered = np.isfinite(matrix)
        count = answered.sum(axis=1)
        total = np.where(answered, matrix, 0.0).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def benchmark_arrays(questions: pd.DataFrame, source: str = "questions") -> dict[str, BenchmarkScores]:
    """benchmark key -> ``BenchmarkScores``, benchmarks in order of first appearance.

    ValueError (naming ``source``, the row and the field) for a missing column, a non-finite score, a repeated
    (run, benchmark, question, seed), or a question given two clusters."""
    missing = [c for c in QUESTION_COLUMNS if c not in questions]
    if missing:
        raise ValueError(f"{source}: missing column(s) {missing} (columns: {list(questions.columns)})")
    table = pd.DataFrame({"run": questions["run"].astype(str), "benchmark": questions["benchmark"].astype(str),
                          "question": questions["question"].astype(str),
                          "score": pd.to_numeric(questions["score"], errors="coerce").astype(float)})
    bad = ~np.isfinite(table["score"].to_numpy())
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{source}: row {row + 2} (run {table['run'].iloc[row]!r}, question "
                         f"{table['question'].iloc[row]!r}), field 'score' is not a finite number")
    table["seed"] = (questions["seed"].map(lambda s: NO_SEED if pd.isna(s) else _seed_label(s))
                     if "seed" in questions else NO_SEED)
    has_cluster = "cluster" in questions
    table["cluster"] = questions["cluster"] if has_cluster else None
    repeated = table.duplicated(["run", "benchmark", "question", "seed"])
    if repeated.any():
        row = int(np.flatnonzero(repeated.to_numpy())[0])
        r = table.iloc[row]
        raise ValueError(f"{source}: row {row + 2} repeats run {r['run']!r}, benchmark {r['benchmark']!r}, question "
                         f"{r['question']!r}" + (f", seed {r['seed']!r}" if r["seed"] != NO_SEED else ""))
    return {key: _one_benchmark(str(key), part, has_cluster, source)
            for key, part in table.groupby("benchmark", sort=False)}


def _seed_label(seed: object) -> str:
    """1, 1.0 and "1" are one seed."""
    if isinstance(seed, float) and seed.is_integer():
        return str(int(seed))
    return str(seed)


def _one_benchmark(key: str, part: pd.DataFrame, has_cluster: bool, source: str) -> BenchmarkScores:
    question_ids = pd.unique(part["question"])
    if has_cluster:
        labels = part.dropna(subset=["cluster"]).groupby("question")["cluster"].agg(lambda c: set(c.astype(str)))
        conflicting = labels[labels.map(len) > 1]
        if len(conflicting):
            raise ValueError(f"{source}: benchmark {key!r}, question {conflicting.index[0]!r}: field 'cluster' "
                             f"differs between rows ({sorted(conflicting.iloc[0])})")
        cluster_of = {q: next(iter(c)) for q, c in labels.items()}
    else:
        cluster_of = {}
    # a question without a cluster label is a cluster of its own (the NUL prefix cannot collide with a label)
    cluster_labels = np.array([cluster_of.get(q, "\0" + q) for q in question_ids], dtype=object)
    unique_clusters, codes = np.unique(cluster_labels.astype(str), return_inverse=True)
    order = np.argsort(codes, kind="stable")
    question_ids = np.asarray(question_ids, dtype=object)[order]
    codes = codes[order]
    position = pd.Series(np.arange(len(question_ids)), index=question_ids)
    per_seed: dict[str, np.ndarray] = {}
    seeds: dict[str, tuple[str, ...]] = {}
    for run, rows in part.groupby("run", sort=False):
        run_seeds = tuple(sorted(pd.unique(rows["seed"]), key=seed_order))
        column = pd.Series(np.arange(len(run_seeds)), index=run_seeds)
        matrix = np.full((len(question_ids), len(run_seeds)), np.nan)
        matrix[position[rows["question"]].to_numpy(), column[rows["seed"]].to_numpy()] = rows["score"].to_numpy()
        per_seed[str(run)] = matrix
        seeds[str(run)] = run_seeds
    return BenchmarkScores(key, question_ids, codes.astype(np.int64), len(unique_clusters), per_seed, seeds)


def seed_order(label: str) -> tuple[int, float, str]:
    """Numeric seeds in numeric order, then the others by name."""
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0.0, label)


def native_scores(arrays: dict[str, BenchmarkScores]) -> pd.DataFrame:
    """One row per run (index ``run``): ``bench.<key>`` = question_scale(key) x the mean seed-averaged score over
    the questions it answered, ``bench.<key>.n`` = that count, ``bench.<key>.stderr`` = its (clustered) standard
    error over questions on the native scale (the seed variance is in the paired verdicts, not here)."""
    rows: dict[str, dict[str, float]] = {}
    for key, scores in arrays.items():
        for run in scores.per_seed:
            values = scores.seed_averaged(run)
            answered = np.isfinite(values)
            n = int(answered.sum())
            row = rows.setdefault(run, {})
            row[f"bench.{key}"] = scores.scale * float(values[answered].mean()) if n else math.nan
            row[f"bench.{key}.n"] = float(n)
            codes = scores.cluster_codes[answered] if scores.clustered else None
            row[f"bench.{key}.stderr"] = scores.scale * clustered_se(values[answered], codes) if n else math.nan
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "run"
    return frame
