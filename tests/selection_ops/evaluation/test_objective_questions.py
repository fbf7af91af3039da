"""Per-question scores of the knowledge benchmarks read from recorded OpenCompass outputs
(``tests/fixtures/objective_run``: SmolLM2 on all six benchmarks), and the checks that make a misread fail."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from selection_ops.evaluation.benchmarks import OBJECTIVE_KEYS, EvaluationError
from selection_ops.evaluation.objective_questions import QUESTION_RULES, objective_questions
from selection_ops.evaluation.summary import parse_summary

RUN = Path(__file__).resolve().parents[2] / "fixtures" / "objective_run" / "outputs"
KEYS = ["arc_c", "gsm8k", "mmlu", "bbh", "ifeval", "humaneval"]


def _questions(run: Path = RUN):
    scores = parse_summary(run / "summary.csv", "smol", KEYS)
    return objective_questions(run, "smol", KEYS, scores, run / "summary.csv"), scores


def test_every_knowledge_benchmark_has_a_rule() -> None:
    assert set(QUESTION_RULES) == set(OBJECTIVE_KEYS)


def test_recorded_outputs_give_one_verdict_per_question() -> None:
    questions, scores = _questions()
    assert Counter(q.benchmark for q in questions) == {"arc_c": 6, "gsm8k": 3, "mmlu": 4, "bbh": 4, "ifeval": 4,
                                                       "humaneval": 164}
    assert all(q.score in (0.0, 1.0) for q in questions)
    ids = [(q.benchmark, q.question) for q in questions]
    assert len(set(ids)) == len(ids)
    arc = [q for q in questions if q.benchmark == "arc_c"]
    assert [q.question for q in arc] == [f"ARC-c/{i}" for i in range(6)]
    assert 100 * sum(q.score for q in arc) / 6 == pytest.approx(scores["arc_c"], abs=0.005)
    assert {q.cluster for q in questions if q.benchmark == "bbh"} == {"boolean_expressions", "date_understanding"}
    assert {q.cluster for q in questions if q.benchmark == "mmlu"} == {"anatomy", "astronomy"}
    assert {q.question for q in questions if q.benchmark == "humaneval"} >= {"openai_humaneval/0",
                                                                           "openai_humaneval/163"}


def test_arc_verdicts_are_accevaluators_exact_match() -> None:
    questions, _ = _questions()
    details = json.loads((RUN / "results" / "smol" / "ARC-c.json").read_text())["details"]
    arc = [q.score for q in questions if q.benchmark == "arc_c"]
    assert arc == [float(details[str(i)]["predictions"] == details[str(i)]["references"]) for i in range(6)]


def _copy(tmp_path: Path) -> Path:
    shutil.copytree(RUN, tmp_path / "outputs")
    return tmp_path / "outputs"


def test_a_verdict_that_does_not_reproduce_the_dataset_score_fails_naming_the_file(tmp_path: Path) -> None:
    run = _copy(tmp_path)
    path = run / "results" / "smol" / "bbh-date_understanding.json"
    results = json.loads(path.read_text())
    results["details"][0]["correct"] = [True]  # OpenCompass's score says 0.0
    path.write_text(json.dumps(results))
    with pytest.raises(EvaluationError, match=r"bbh-date_understanding.json: the per-question mean x 100 is 50.0"):
        _questions(run)


def test_a_summary_the_questions_do_not_reproduce_fails(tmp_path: Path) -> None:
    run = _copy(tmp_path)
    summary = (run / "summary.csv").read_text().replace("IFEval,353ae7,Prompt-level-strict-accuracy,gen,0.00",
                                                        "IFEval,353ae7,Prompt-level-strict-accuracy,gen,25.00")
    (run / "summary.csv").write_text(summary)
    with pytest.raises(EvaluationError, match=r"summary.csv: benchmark 'ifeval' is 25.0 but its per-question"):
        _questions(run)


def test_missing_details_or_predictions_fail(tmp_path: Path) -> None:
    run = _copy(tmp_path)
    path = run / "results" / "smol" / "gsm8k.json"
    path.write_text(json.dumps({"accuracy": 0.0}))
    with pytest.raises(EvaluationError, match=r"gsm8k.json: no per-sample 'details'"):
        _questions(run)
    run = _copy(tmp_path / "again")
    predictions = run / "predictions" / "smol" / "IFEval.json"
    content = json.loads(predictions.read_text())
    predictions.write_text(json.dumps({k: v for k, v in content.items() if k != "3"}))
    with pytest.raises(EvaluationError, match=r"IFEval.json: 4 verdicts for the 3 predictions"):
        _questions(run)
