"""Per-question scores: the evidence every verdict is computed from.

One row per (run, benchmark, question): ``run`` names the evaluated model (a trained cell, the untuned baseline,
the Pool row), ``benchmark`` a benchmark key (``selection_ops.evaluation.benchmarks`` or the likelihood channel's
keys), ``question`` the question's id within the benchmark, ``score`` its score in the benchmark's per-question
unit (see ``QUESTION_UNIT``). Optional columns: ``seed`` (the training seed; the same run name over several seeds
is one cell, averaged per question before pairing) and ``cluster`` (questions sharing a prompt or sub-task:
MT-Bench's turns of one dialogue, BBH's sub-tasks; clustered errors resample whole clusters).

A benchmark's native score (what ``bench.<key>`` holds) is ``question_scale(key)`` times the mean per-question
score: 0/1 accuracies and AlpacaEval's win / tie / loss (1 / 0.5 / 0) become percentages (x 100), MT-Bench grades
(1-10), WildBench rewards (-100..100) and likelihood metrics stay as they are.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from selection_ops.evaluation.benchmarks import score_spec

QUESTION_COLUMNS = ("run", "benchmark", "question", "score")
OPTIONAL_COLUMNS = ("seed", "cluster")

# per-question unit -> native scale: x 100 for proportions (0/1 accuracy, win = 1 / tie = 0.5 / loss = 0)
PERCENT_OF_UNIT = 100.0
# for a name the registry (``benchmarks.SCORES``) does not know, e.g. a CSV's own benchmark: lower is better for
# bits per byte, and the scale is 1
_LOWER_IS_BETTER_PREFIXES = ("ref_bpb",)
QUESTION_UNIT = {
    "accuracy": "0 or 1 per question (x 100 = the native percentage)",
    "alpacaeval_v2": "1 win, 0.5 tie (both orders split), 0 loss against the reference (x 100 = win rate %)",
    "mtbench": "the judge's grade 1-10 of one dialogue",
    "wildbench": "the reward -100..100 from the model's side",
    "likelihood": "the metric itself (probability, margin, bits per byte)",
}


def question_scale(benchmark: str) -> float:
    """The factor from a benchmark's mean per-question score to its native scale (100 for proportions, else 1)."""
    spec = score_spec(benchmark)
    return spec.question_scale if spec else 1.0


def higher_is_better(benchmark: str) -> bool:
    """False for bits-per-byte benchmarks (``ref_bpb*``), True for every other score."""
    spec = score_spec(benchmark)
    return spec.higher_is_better if spec else not benchmark.startswith(_LOWER_IS_BETTER_PREFIXES)


@dataclass(frozen=True)
class QuestionScore:
    """One model's score on one question of one benchmark (the run is added by whoever knows it)."""

    benchmark: str
    question: str
    score: float
    cluster: str | None = None


def question_frame(run: str, scores: Iterable[QuestionScore], seed: int | None = None) -> pd.DataFrame:
    """``scores`` of one run as the per-question table (``QUESTION_COLUMNS`` + ``cluster`` [+ ``seed``])."""
    rows = [{"run": run, "benchmark": s.benchmark, "question": str(s.question), "score": float(s.score),
             "cluster": s.cluster} for s in scores]
    frame = pd.DataFrame(rows, columns=[*QUESTION_COLUMNS, "cluster"])
    if seed is not None:
        frame["seed"] = int(seed)
    return frame


def write_questions(path, run: str, scores: Iterable[QuestionScore], seed: int | None = None):
    """``question_frame`` of one run written atomically as CSV (the study's copy beside its evaluation)."""
    from selection_ops.foundation.atomic import write_text_atomic

    return write_text_atomic(path, question_frame(run, scores, seed).to_csv(index=False))


def read_questions(path) -> pd.DataFrame:
    """A per-question CSV (``run, benchmark, question, score``; optional ``seed``, ``cluster``; other columns are
    ignored). ValueError names the file, the row and the field of a missing column or a non-numeric score."""
    from pathlib import Path

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"--questions {path}: no such file")
    table = pd.read_csv(path, dtype={"run": str, "benchmark": str, "question": str, "cluster": str})
    missing = [c for c in QUESTION_COLUMNS if c not in table]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing} (columns: {list(table.columns)})")
    scores = pd.to_numeric(table["score"], errors="coerce")
    bad = scores.isna()
    if bad.any():
        row = int(bad.to_numpy().nonzero()[0][0])
        raise ValueError(f"{path}: row {row + 2} (run {table['run'].iloc[row]!r}, question "
                         f"{table['question'].iloc[row]!r}), field 'score' is not a number: "
                         f"{table['score'].iloc[row]!r}")
    keep = [*QUESTION_COLUMNS, *[c for c in OPTIONAL_COLUMNS if c in table]]
    table = table[keep].copy()
    table["score"] = scores.astype(float)
    return table
