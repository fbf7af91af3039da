"""Per-question scores of the knowledge benchmarks, exactly as OpenCompass scored each question.

OpenCompass writes, per dataset, ``predictions/<model>/<abbr>.json`` (the model's outputs) and
``results/<model>/<abbr>.json`` (the score and, as the CLI dumps them by default, the per-sample ``details``).
Each question becomes one ``QuestionScore``: ``question = "<abbr>/<index>"`` (its index in the OpenCompass dataset,
stable across models: the first N items under a sample limit), ``score`` 0/1 (mean over replicas if a dataset
repeats a question), ``cluster`` = the subject / sub-task for MMLU and BBH, else None.

Where the correctness comes from (``QUESTION_RULES``):

* ``arc_c``, ``mmlu``: ``AccEvaluator`` writes no per-sample verdict; OpenCompass's own ``details`` hold the
  post-processed prediction and the reference, and ``AccEvaluator`` counts a question correct when
  ``str(prediction) == str(reference)``; so does this module.
* ``gsm8k`` (``MATHEvaluator``), ``bbh`` (``BBHEvaluator`` / ``BBHEvaluator_mcq``): ``details[i]["correct"]``.
* ``ifeval``: ``details[i]["is_strict_correct"]``, the prompt-level strict verdict (MIG Appx. A.4's score).
* ``humaneval``: ``details[i]["is_correct"]`` (human-eval's ``passed``; pass@1 with one sample per problem).

Checks, each failing with ``EvaluationError`` naming the file: one verdict per prediction; per dataset, the mean
per-question score x 100 equals the dataset's own metric in its results file; per benchmark, the mean over its
datasets (MMLU / BBH: OpenCompass's unweighted ``naive_average`` over subjects) equals the summary's score to its
two printed decimals. For MMLU and BBH the question-pooled mean equals that average only when every subject
contributes as many questions (any sample limit up to the smallest subject: 100 for MMLU, 146 for BBH).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from selection_ops.evaluation.benchmarks import BENCHMARKS, EvaluationError, check_benchmarks
from selection_ops.evaluation.questions import PERCENT_OF_UNIT, QuestionScore
from selection_ops.evaluation.summary import read_predictions

# the summary CSV prints scores with two decimals
SUMMARY_TOLERANCE = 0.005 + 1e-9
# a dataset's metric vs the mean of its per-question scores (both percentages, computed from the same verdicts)
DATASET_TOLERANCE = 1e-6


@dataclass(frozen=True)
class QuestionRule:
    """``metric``: the per-dataset key of ``results/<model>/<abbr>.json`` the questions must reproduce; ``field``:
    the ``details`` field with OpenCompass's per-question verdict, None for ``AccEvaluator``'s exact match."""

    metric: str
    field: str | None


QUESTION_RULES: dict[str, QuestionRule] = {
    "arc_c": QuestionRule("accuracy", None),
    "mmlu": QuestionRule("accuracy", None),
    "gsm8k": QuestionRule("accuracy", "correct"),
    "bbh": QuestionRule("score", "correct"),
    "ifeval": QuestionRule("Prompt-level-strict-accuracy", "is_strict_correct"),
    "humaneval": QuestionRule("humaneval_pass@1", "is_correct"),
}


def benchmark_abbrs(results_dir: Path, key: str) -> list[str]:
    """The OpenCompass datasets of benchmark ``key`` that have a results file in ``results_dir`` (sorted)."""
    bench = BENCHMARKS[key]
    stems = [p.stem for p in Path(results_dir).glob("*.json")]
    return sorted(s for s in stems if s == bench.summary_dataset
                  or (bench.member_prefix is not None and s.startswith(bench.member_prefix)))


def _verdict(value: object, where: str) -> float:
    """A details verdict (a bool, or a list of bools over replicas) as a score in [0, 1]."""
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, bool | int) and not isinstance(v, float) for v in values):
        raise EvaluationError(f"{where}: expected a boolean verdict (or a list of them), got {value!r}")
    return sum(float(v) for v in values) / len(values)


def dataset_question_scores(results_path: Path, rule: QuestionRule) -> list[float]:
    """Per-question scores (0..1, dataset order) of one results file, checked against its own ``rule.metric``."""
    results = json.loads(Path(results_path).read_text(encoding="utf-8"))
    details = results.get("details")
    if details is None:
        raise EvaluationError(f"{results_path}: no per-sample 'details' (OpenCompass's --dump-eval-details was off)")
    if rule.field is None:  # OpenCompass's format_details: {"type": "GEN", "0": {...}, ...}
        if not isinstance(details, dict):
            raise EvaluationError(f"{results_path}: expected OpenCompass's formatted details dict")
        items = [details[str(i)] for i in range(len(details) - ("type" in details))]
        scores = []
        for i, item in enumerate(items):
            if "predictions" not in item or "references" not in item:
                raise EvaluationError(f"{results_path}: details {i} lacks 'predictions' / 'references'")
            scores.append(1.0 if str(item["predictions"]) == str(item["references"]) else 0.0)
    else:
        if not isinstance(details, list):
            raise EvaluationError(f"{results_path}: expected the evaluator's details list")
        scores = []
        for i, item in enumerate(details):
            if rule.field not in item:
                raise EvaluationError(f"{results_path}: details {i} has no field {rule.field!r}")
            scores.append(_verdict(item[rule.field], f"{results_path}: details {i}, field {rule.field!r}"))
    if rule.metric not in results:
        raise EvaluationError(f"{results_path}: no metric {rule.metric!r} (keys {sorted(results)})")
    if not scores:
        raise EvaluationError(f"{results_path}: no per-sample details")
    mean = PERCENT_OF_UNIT * sum(scores) / len(scores)
    if not math.isclose(mean, float(results[rule.metric]), abs_tol=DATASET_TOLERANCE):
        raise EvaluationError(f"{results_path}: the per-question mean x 100 is {mean!r} but {rule.metric!r} is "
                              f"{results[rule.metric]!r}")
    return scores


def objective_questions(run_dir: Path, model_name: str, keys: Sequence[str],
                        summary_scores: Mapping[str, float], summary_path: Path | None = None
                        ) -> tuple[QuestionScore, ...]:
    """Per-question scores of the knowledge benchmarks ``keys`` of one OpenCompass run (``run_dir`` =
    ``outputs/<timestamp>``), checked against the per-dataset results and ``summary_scores`` (``parse_summary``)."""
    run_dir = Path(run_dir)
    results_dir = run_dir / "results" / model_name
    questions: list[QuestionScore] = []
    for key in check_benchmarks(keys) if keys else []:
        rule, bench = QUESTION_RULES[key], BENCHMARKS[key]
        abbrs = benchmark_abbrs(results_dir, key)
        if not abbrs:
            raise EvaluationError(f"no results of benchmark {key!r} in {results_dir}")
        dataset_means = []
        for abbr in abbrs:
            results_path = results_dir / f"{abbr}.json"
            scores = dataset_question_scores(results_path, rule)
            predictions, files = read_predictions(run_dir / "predictions" / model_name, abbr)
            if len(predictions) != len(scores):
                raise EvaluationError(f"{results_path}: {len(scores)} verdicts for the {len(predictions)} "
                                      f"predictions in {files[0]}")
            cluster = abbr.removeprefix(bench.member_prefix) if bench.member_prefix else None
            questions += [QuestionScore(key, f"{abbr}/{i}", score, cluster) for i, score in enumerate(scores)]
            dataset_means.append(PERCENT_OF_UNIT * sum(scores) / len(scores))
        if key in summary_scores:
            score = sum(dataset_means) / len(dataset_means)
            if abs(score - summary_scores[key]) > SUMMARY_TOLERANCE:
                raise EvaluationError(f"{summary_path or run_dir / 'summary'}: benchmark {key!r} is "
                                      f"{summary_scores[key]} but its per-question scores give {score:.4f} "
                                      f"(mean over {len(abbrs)} dataset(s) in {results_dir})")
    return tuple(questions)
