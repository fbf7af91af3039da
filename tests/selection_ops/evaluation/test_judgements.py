"""Judge outputs re-read with OpenCompass's own parsers: each format well-formed, malformed and empty, the parse
rate, and the failure that names benchmark, count and a sample output."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from selection_ops.evaluation.benchmarks import EvaluationError
from selection_ops.evaluation.judgements import check_parse_rates, read_judgements, write_raw_judgements

JUDGE = "judge-x"


def _write(run: Path, pair: str, abbr: str, predictions: list[str], golds: list[dict], postprocessed: bool) -> None:
    judgements = {str(i): {"prediction": p, "gold": g} for i, (p, g) in enumerate(zip(predictions, golds))}
    content = {"total": 0.0, "details": judgements} if postprocessed else judgements
    path = run / "results" / f"{pair}_judged-by--{JUDGE}" / f"{abbr}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content))


def test_alpacaeval_win_rate_from_recorded_outputs(tmp_path: Path) -> None:
    first, second = {"answer1": "smol", "answer2": "gpt4-turbo"}, {"answer1": "gpt4-turbo", "answer2": "smol"}
    # OpenCompass reads the first character: m = the first output wins, M the second; others are dropped
    outputs = ["m", "M\n[judge probabilities]", "m", "The best model is m", ""]
    _write(tmp_path, "gpt4-turbo_smol", "alpaca_eval", outputs, [first, second, second, first, first], True)
    found = read_judgements(tmp_path, "smol", JUDGE, "judge id", {"alpacaeval_v2": ["alpaca_eval"]})
    bench = found["alpacaeval_v2"]
    assert (bench.total, bench.parsed) == (5, 3)
    assert bench.values == [100.0, 100.0, 0.0]  # smol first and m; smol second and M; smol second and m
    assert bench.score == pytest.approx(200 / 3) and bench.parse_rate == pytest.approx(0.6)
    assert bench.stderr == pytest.approx(100 * math.sqrt((2 / 3) * (1 / 3) / 3))
    assert bench.unparsed_samples == ["The best model is m", ""]


def test_both_orders_cancel_a_position_bias_and_count_one_sample_per_comparison(tmp_path: Path) -> None:
    # OpenCompass's infer_order='double' appends the dataset again with the two answers swapped
    shown = [{"question": q, "answer1": "smol", "answer2": "gpt4-turbo"} for q in ("q1", "q2")]
    golds = shown + [{**g, "answer1": "gpt4-turbo", "answer2": "smol"} for g in shown]

    biased = tmp_path / "biased"  # the second output wins whatever it says (the embedded judge's habit)
    _write(biased, "gpt4-turbo_smol", "alpaca_eval", ["M", "M", "M", "M"], golds, True)
    bench = read_judgements(biased, "smol", JUDGE, "j", {"alpacaeval_v2": ["alpaca_eval"]})["alpacaeval_v2"]
    assert bench.values == [0.0, 0.0, 100.0, 100.0] and bench.score == 50.0
    assert bench.n == 2 and bench.samples() == [50.0, 50.0] and bench.stderr == 0.0

    consistent = tmp_path / "consistent"  # smol wins q1 in both orders, loses q2 in both
    _write(consistent, "gpt4-turbo_smol", "alpaca_eval", ["m", "M", "M", "m"], golds, True)
    bench = read_judgements(consistent, "smol", JUDGE, "j", {"alpacaeval_v2": ["alpaca_eval"]})["alpacaeval_v2"]
    assert bench.samples() == [100.0, 0.0] and bench.score == 50.0
    assert bench.stderr == pytest.approx(50.0)  # sd of (100, 0) over sqrt(2) comparisons, not 4 judgements

    one_order = tmp_path / "one_order"  # the official single random order: every judgement is its own sample
    _write(one_order, "gpt4-turbo_smol", "alpaca_eval", ["m", "M"], [shown[0], golds[3]], True)
    bench = read_judgements(one_order, "smol", JUDGE, "j", {"alpacaeval_v2": ["alpaca_eval"]})["alpacaeval_v2"]
    assert bench.n == 2 and bench.samples() == [100.0, 100.0]


def test_mtbench_ratings_over_both_temperature_files(tmp_path: Path) -> None:
    gold = {"capability": "writing"}
    _write(tmp_path, "smol", "mtbench_0.7", ["Good. Rating: [[8]]", "Rating: [[6.5]]"], [gold, gold], True)
    _write(tmp_path, "smol", "mtbench_0.0", ["Rating: 9", "Rating: [[4]]"], [gold, gold], False)  # crashed run
    found = read_judgements(tmp_path, "smol", JUDGE, "judge id", {"mtbench": ["mtbench_0.0", "mtbench_0.7"]})
    bench = found["mtbench"]
    assert (bench.total, bench.parsed) == (4, 3) and sorted(bench.values) == [4.0, 6.5, 8.0]
    assert bench.score == pytest.approx(18.5 / 3)
    assert bench.stderr == pytest.approx(math.sqrt((8.1666666 / 2) / 3))


def test_wildbench_reward_from_the_models_side_and_opencompass_group_average(tmp_path: Path) -> None:
    def gold(first: str, tag: str) -> dict:
        return {"answer1": first, "answer2": "smol" if first != "smol" else "HaiKu", "primary_tag": tag,
                "secondary_tag": [], "base_models": ["HaiKu"]}

    _write(tmp_path, "HaiKu_smol", "wildbench",
           ['{"choice": "A++"}', '{"choice": "B+"}', '"choice": "maybe"', "no json"],
           [gold("HaiKu", "Math"), gold("HaiKu", "Math"), gold("smol", "Math"), gold("smol", "Coding & Debugging")],
           postprocessed=True)
    bench = read_judgements(tmp_path, "smol", JUDGE, "j", {"wildbench": ["wildbench"]})["wildbench"]
    assert (bench.total, bench.parsed) == (4, 2)
    assert bench.values == [-100.0, 50.0]  # the reference won outright; then smol (as B) won slightly
    assert bench.score == pytest.approx(-25.0)  # OpenCompass's average over the one task group present


def test_a_low_parse_rate_fails_naming_benchmark_count_and_sample(tmp_path: Path) -> None:
    _write(tmp_path, "smol", "mtbench_0.7", ["I would rate it highly.", "Rating: [[7]]", "sure"],
           [{"capability": "writing"}] * 3, postprocessed=False)
    found = read_judgements(tmp_path, "smol", JUDGE, "hf:tiny/generate", {"mtbench": ["mtbench_0.7"]})
    with pytest.raises(EvaluationError, match=r"benchmark 'mtbench': judge hf:tiny/generate produced 2 "
                                              r"unparseable of 3 judgements .*'I would rate it highly.'"):
        check_parse_rates(found, 0.9)
    check_parse_rates(found, 0.3)  # a lower threshold lets it through
    raw = write_raw_judgements(found, tmp_path / "raw")
    assert len(raw) == 1 and "I would rate it highly." in raw[0].read_text()


def test_no_judgement_at_all_is_a_failure(tmp_path: Path) -> None:
    found = read_judgements(tmp_path, "smol", JUDGE, "j", {"alpacaeval_v2": ["alpaca_eval"]})
    with pytest.raises(EvaluationError, match="produced no judgements"):
        check_parse_rates(found, 0.0)


def test_question_scores_pair_the_same_comparison_across_models_in_the_per_question_unit(tmp_path: Path) -> None:
    shown = [{"question": q, "answer1": "MODEL", "answer2": "gpt4-turbo"} for q in ("q1", "q2")]
    golds = shown + [{**g, "answer1": "gpt4-turbo", "answer2": "MODEL"} for g in shown]
    scores = {}
    for model, outputs in (("smol", ["m", "M", "M", "M"]), ("kcenter", ["M", "M", "M", "m"])):
        run = tmp_path / model
        model_golds = [{k: (model if v == "MODEL" else v) for k, v in g.items()} for g in golds]
        _write(run, f"gpt4-turbo_{model}", "alpaca_eval", outputs, model_golds, True)
        bench = read_judgements(run, model, JUDGE, "j", {"alpacaeval_v2": ["alpaca_eval"]})["alpacaeval_v2"]
        scores[model] = {q.question: q.score for q in bench.question_scores()}
        # the per-question mean x 100 is the native win rate
        assert 100 * sum(scores[model].values()) / len(scores[model]) == pytest.approx(bench.score)
    assert set(scores["smol"]) == set(scores["kcenter"]) == {"alpaca_eval/gpt4-turbo/0", "alpaca_eval/gpt4-turbo/1"}
    # smol wins q1 in both orders, splits q2; kcenter splits q1 and loses q2 in both orders
    assert scores["smol"] == {"alpaca_eval/gpt4-turbo/0": 1.0, "alpaca_eval/gpt4-turbo/1": 0.5}
    assert scores["kcenter"] == {"alpaca_eval/gpt4-turbo/0": 0.5, "alpaca_eval/gpt4-turbo/1": 0.0}


def test_mtbench_question_scores_are_grades_keyed_by_file_and_index(tmp_path: Path) -> None:
    gold = {"capability": "writing"}
    _write(tmp_path, "smol", "mtbench_0.7", ["Rating: [[8]]", "Rating: [[6.5]]"], [gold, gold], True)
    bench = read_judgements(tmp_path, "smol", JUDGE, "j", {"mtbench": ["mtbench_0.7"]})["mtbench"]
    assert [(q.question, q.score) for q in bench.question_scores()] == [("mtbench_0.7/0", 8.0),
                                                                         ("mtbench_0.7/1", 6.5)]
