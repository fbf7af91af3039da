"""The likelihood channel's plain parts: the registry, the rows laid out from shared/data, the metrics, the token
selection of ``ChatLikelihoodModel``, and the parsing of recorded OpenCompass outputs (a real SmolLM2 run on 3
AlpacaEval references, 3 ARC-Challenge questions and one MT-Bench dialogue, ``tests/fixtures/likelihood_run``)."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest

from selection_ops.evaluation.benchmarks import (
    LIKELIHOOD_BENCHMARKS,
    LIKELIHOOD_SCORE_KEYS,
    EvaluationError,
    check_benchmarks,
    split_benchmarks,
)
from selection_ops.evaluation.likelihood_data import (
    CLOZE_PROMPT,
    alpaca_rows,
    arc_rows,
    dataset_path,
    mmlu_rows,
    mtbench_rows,
    prepare_likelihood_data,
    render_row,
    truncate_answer,
)
from selection_ops.evaluation.likelihood_scores import (
    bits_per_byte,
    cloze_metrics,
    likelihood_questions,
    proxy_summary,
    read_scored_rows,
)
from selection_ops.evaluation.questions import higher_is_better, question_scale

RUN = Path(__file__).resolve().parents[2] / "fixtures" / "likelihood_run"


def render(messages) -> str:
    """A stand-in chat template: enough to check spans and histories without a tokenizer."""
    return "".join(f"<{m['role']}>{m['content']}</{m['role']}>" for m in messages) + "<assistant>"


# --- registry -----------------------------------------------------------------------------------------------------

def test_every_score_key_has_a_direction_and_a_scale() -> None:
    assert LIKELIHOOD_BENCHMARKS["arc_c_cloze"].score_keys == ("arc_c_prob", "arc_c_prob_norm", "arc_c_margin",
                                                                "arc_c_acc")
    for score in LIKELIHOOD_SCORE_KEYS:
        bench = LIKELIHOOD_BENCHMARKS[LIKELIHOOD_SCORE_KEYS[score]]
        assert higher_is_better(score) == bench.higher_is_better
        assert question_scale(score) == (100.0 if score.endswith("_acc") else 1.0)


def test_a_score_key_where_a_dataset_key_belongs_names_the_dataset_key() -> None:
    assert split_benchmarks(["arc_c", "arc_c_cloze", "ref_bpb_alpaca", "arc_c"]) == (
        ["arc_c"], ["arc_c_cloze", "ref_bpb_alpaca"])
    with pytest.raises(ValueError, match="'arc_c_prob' is a score of dataset key 'arc_c_cloze'"):
        split_benchmarks(["arc_c_prob"])
    with pytest.raises(ValueError, match="unknown"):
        check_benchmarks(["arc_c_cloze"])  # knowledge benchmarks only, as before


# --- rows ---------------------------------------------------------------------------------------------------------

def test_alpaca_rows_pair_each_instruction_with_gpt4_turbos_output(data_dir: Path) -> None:
    rows = alpaca_rows(data_dir, 5)
    references = json.loads((data_dir / "alpaca_eval_v2" / "gpt4_1106_preview_model_outputs.json").read_text())
    assert len(rows) == 5 and len({r.question for r in rows}) == 5
    for row in rows:
        index = int(row.question.split("/")[1])
        assert row.continuation == references[index]["output"]
        assert row.messages == ({"role": "user", "content": references[index]["instruction"]},)
    assert len(alpaca_rows(data_dir, None)) == 805


def test_a_reference_prefix_is_cut_at_a_space_and_never_changes_a_short_answer(data_dir: Path) -> None:
    assert truncate_answer("one two three four", 9) == "one two"  # the last whole word within 9 characters
    assert truncate_answer("one two three", None) == "one two three" == truncate_answer("one two three", 13)
    assert truncate_answer("abcdefghij", 4) == "abcd"  # no space before the limit: a hard cut
    with pytest.raises(ValueError, match="0 characters"):
        truncate_answer("one two", 0)
    whole, cut = alpaca_rows(data_dir, 5), alpaca_rows(data_dir, 5, answer_chars=400)
    assert [r.question for r in whole] == [r.question for r in cut] and [r.messages for r in whole] == [
        r.messages for r in cut]
    for full, prefix in zip(whole, cut, strict=True):
        assert full.continuation.startswith(prefix.continuation) and len(prefix.continuation) <= 400
        assert len(prefix.continuation) > 300 or prefix.continuation == full.continuation
    second = mtbench_rows(data_dir, 3, answer_chars=200)["ref_bpb_mtbench_turn2"]
    full_second = mtbench_rows(data_dir, 3)["ref_bpb_mtbench_turn2"]
    assert all(len(r.continuation) <= 200 for r in second)
    assert [r.messages for r in second] == [r.messages for r in full_second]  # the history keeps whole answers


def test_alpaca_rows_ask_what_alpacaeval_v2_asks_at_the_same_limit(data_dir: Path, tmp_path: Path) -> None:
    from selection_ops.evaluation.preference_data import build_alpaca_eval

    build_alpaca_eval(data_dir, tmp_path, 7)
    asked = [item["question"] for item in json.loads((tmp_path / "alpaca_eval" / "alpaca_eval.json").read_text())]
    assert [row.messages[0]["content"] for row in alpaca_rows(data_dir, 7)] == asked


def test_mtbench_rows_carry_the_reference_dialogue_as_history(data_dir: Path) -> None:
    turns = mtbench_rows(data_dir, None)
    first, second = turns["ref_bpb_mtbench_turn1"], turns["ref_bpb_mtbench_turn2"]
    assert len(first) == len(second) == 30  # the math / reasoning / coding questions with GPT-4 references
    assert second[0].messages[1] == {"role": "assistant", "content": first[0].continuation}
    assert [m["role"] for m in second[0].messages] == ["user", "assistant", "user"]
    assert first[0].cluster == second[0].cluster == first[0].question.rsplit("/", 1)[0]
    limited = mtbench_rows(data_dir, 3)["ref_bpb_mtbench_turn1"]
    assert len(limited) == 3  # spread over the three categories


def test_arc_rows_follow_opencompass_order_with_one_row_per_choice(data_dir: Path) -> None:
    rows = arc_rows(data_dir, 2)
    assert [r.question for r in rows] == ["ARC-c/0"] * 4 + ["ARC-c/1"] * 4
    assert [r.choice for r in rows[:4]] == [0, 1, 2, 3] and sum(bool(r.gold) for r in rows[:4]) == 1
    source = [json.loads(line) for line in (data_dir / "arc_challenge" / "ARC-Challenge-test.jsonl").open()]
    first = next(r for r in source if len(r["choices"]["text"]) == 4)
    assert rows[0].messages[0]["content"] == CLOZE_PROMPT.format(question=first["question"])
    assert [r.continuation for r in rows[:4]] == first["choices"]["text"]
    assert rows[[r.gold for r in rows[:4]].index(True)].choice == first["choices"]["label"].index(first["answerKey"])


def test_mmlu_rows_take_the_first_questions_of_every_subject(data_dir: Path) -> None:
    rows = mmlu_rows(data_dir, 1)
    assert len(rows) == 57 * 4 and rows[0].question == "lukaemon_mmlu_abstract_algebra/0"
    assert rows[0].cluster == "abstract_algebra"


def test_a_rendered_row_marks_exactly_the_continuation(data_dir: Path) -> None:
    row = arc_rows(data_dir, 1)[2]
    rendered = render_row(row, render)
    start, end, _ = rendered["label"][0]
    assert rendered["text"][start:end] == row.continuation and end == len(rendered["text"])
    assert rendered["text"][:start] == render(row.messages)
    assert rendered["n_chars"] == len(row.continuation)
    assert rendered["n_bytes"] == len(row.continuation.encode("utf-8"))


def test_prepare_writes_one_jsonl_per_opencompass_dataset(data_dir: Path, tmp_path: Path) -> None:
    written = prepare_likelihood_data(data_dir, tmp_path, ["ref_bpb_mtbench", "arc_c_cloze"],
                                      {"ref_bpb_mtbench": 2, "arc_c_cloze": 3}, render)
    assert written == {"ref_bpb_mtbench": ["ref_bpb_mtbench_turn1", "ref_bpb_mtbench_turn2"],
                       "arc_c_cloze": ["arc_c_cloze"]}
    lines = dataset_path(tmp_path, "arc_c_cloze").read_text().splitlines()
    assert len(lines) == 12 and json.loads(lines[0])["question"] == "ARC-c/0"
    with pytest.raises(FileNotFoundError, match="mt_bench"):
        prepare_likelihood_data(tmp_path / "empty", tmp_path, ["ref_bpb_mtbench"], {}, render)


def test_the_opencompass_loader_reads_the_rows(data_dir: Path, tmp_path: Path, monkeypatch) -> None:
    from opencompass.datasets import JsonlDataset

    prepare_likelihood_data(data_dir, tmp_path, ["arc_c_cloze"], {"arc_c_cloze": 1}, render)
    monkeypatch.setenv("COMPASS_DATA_CACHE", str(tmp_path))
    dataset = JsonlDataset.load(path="data/infosift_likelihood/arc_c_cloze.jsonl")
    assert len(dataset) == 4 and dataset[0]["label"] == json.loads(
        dataset_path(tmp_path, "arc_c_cloze").read_text().splitlines()[0])["label"]


# --- metrics ------------------------------------------------------------------------------------------------------

def test_bits_per_byte_is_nats_over_ln2_bytes() -> None:
    assert bits_per_byte(math.log(2) * 12, 6) == pytest.approx(2.0)
    with pytest.raises(ValueError):
        bits_per_byte(1.0, 0)


def test_cloze_metrics_normalise_per_character() -> None:
    # choices of 2, 4 and 8 characters; the correct one (index 1) has the best per-character likelihood
    loglikelihoods, chars = [-2.0, -2.0, -12.0], [2, 4, 8]
    per_char = [-1.0, -0.5, -1.5]
    metrics = cloze_metrics(loglikelihoods, chars, gold=1)
    probs = [math.exp(x) for x in per_char]
    assert metrics["prob"] == pytest.approx(probs[1])
    assert metrics["prob_norm"] == pytest.approx(probs[1] / sum(probs))
    assert metrics["margin"] == pytest.approx(probs[1] - probs[0])
    assert metrics["acc"] == 1.0
    assert cloze_metrics(loglikelihoods, chars, gold=0)["acc"] == 0.0  # raw sums tie; per char, 1 wins
    assert cloze_metrics([-1.0, -1.0], [1, 1], gold=0)["acc"] == 0.0  # a tie is not a win
    with pytest.raises(ValueError):
        cloze_metrics([-1.0], [1], gold=0)


def test_proxy_summary_scales_accuracy_to_percent() -> None:
    from selection_ops.evaluation.questions import QuestionScore

    rows = [QuestionScore("arc_c_acc", f"q{i}", float(i % 2)) for i in range(4)]
    rows += [QuestionScore("ref_bpb_alpaca", f"q{i}", v) for i, v in enumerate((1.0, 2.0, 3.0))]
    scores, stderr, n = proxy_summary(rows, ["arc_c_acc", "ref_bpb_alpaca"])
    assert scores == {"arc_c_acc": 50.0, "ref_bpb_alpaca": 2.0} and n == {"arc_c_acc": 4, "ref_bpb_alpaca": 3}
    assert stderr["arc_c_acc"] == pytest.approx(25.0)  # 100 sqrt(.25 / 4)
    assert stderr["ref_bpb_alpaca"] == pytest.approx(1.0 / math.sqrt(3))


# --- ChatLikelihoodModel's token selection --------------------------------------------------------------------------

def test_scored_positions_take_the_tokens_inside_the_span() -> None:
    from selection_ops.evaluation.likelihood_model import scored_positions, shared_prompt_groups

    offsets = [(0, 3), (3, 5), (5, 9), (9, 10), (10, 10)]
    assert scored_positions(offsets, [[5, 10, 1]], "x" * 10) == [2, 3]
    with pytest.raises(ValueError, match="straddles"):
        scored_positions(offsets, [[4, 10, 1]], "x" * 10)
    with pytest.raises(ValueError, match="first token"):
        scored_positions(offsets, [[0, 5, 1]], "x" * 10)
    rows = [([1, 2, 3, 7], [3]), ([1, 2, 3, 8, 9], [3, 4]), ([1, 2, 4, 8], [3]), ([5, 6], [1])]
    assert shared_prompt_groups(rows) == [[0, 1], [2], [3]]


def test_rows_of_similar_length_share_a_padded_forward_pass() -> None:
    from types import SimpleNamespace

    from selection_ops.evaluation.likelihood_model import ChatLikelihoodModel

    weight = SimpleNamespace(shape=(10, 4))
    fake = SimpleNamespace(model=SimpleNamespace(get_output_embeddings=lambda: SimpleNamespace(weight=weight)))
    rows = [(list(range(n)), [n - 2, n - 1]) for n in (100, 12, 110, 10, 400)]
    assert ChatLikelihoodModel._sub_batches(fake, rows) == [[3, 1], [0, 2], [4]]  # longest <= 1.25 x shortest


# --- recorded outputs ---------------------------------------------------------------------------------------------

def _copy_run(tmp_path: Path) -> tuple[Path, Path]:
    shutil.copytree(RUN, tmp_path / "run")
    return tmp_path / "run" / "outputs", tmp_path / "run" / "compass_data"


def test_recorded_run_gives_per_question_scores() -> None:
    questions = likelihood_questions(RUN / "outputs", "smol", RUN / "compass_data",
                                     ["ref_bpb_alpaca", "arc_c_cloze", "ref_bpb_mtbench"])
    by_key = {}
    for q in questions:
        by_key.setdefault(q.benchmark, []).append(q)
    assert {k: len(v) for k, v in by_key.items()} == {"ref_bpb_alpaca": 3, "arc_c_prob": 3, "arc_c_prob_norm": 3,
                                                     "arc_c_margin": 3, "arc_c_acc": 3, "ref_bpb_mtbench": 2}
    rows = read_scored_rows(RUN / "outputs", "smol", RUN / "compass_data", "ref_bpb_alpaca")
    for row, question in zip(rows, by_key["ref_bpb_alpaca"], strict=True):
        assert question.score == pytest.approx(row.nll / (math.log(2) * row.n_bytes))
    assert all(0.0 < q.score < 1.0 for q in by_key["arc_c_prob_norm"])
    assert all(q.score in (0.0, 1.0) for q in by_key["arc_c_acc"])


def test_a_prediction_that_is_not_its_row_fails_naming_the_file(tmp_path: Path) -> None:
    outputs, cache = _copy_run(tmp_path)
    path = outputs / "predictions" / "smol" / "arc_c_cloze.json"
    predictions = json.loads(path.read_text())
    predictions["1"]["origin_prompt"] = predictions["0"]["origin_prompt"]
    path.write_text(json.dumps(predictions))
    with pytest.raises(EvaluationError, match=r"arc_c_cloze.json: prediction 1's prompt differs"):
        likelihood_questions(outputs, "smol", cache, ["arc_c_cloze"])


def test_a_pooled_ratio_that_opencompass_did_not_report_fails(tmp_path: Path) -> None:
    outputs, cache = _copy_run(tmp_path)
    path = outputs / "results" / "smol" / "ref_bpb_alpaca.json"
    path.write_text(json.dumps({"average_ppl": 1.0}))
    with pytest.raises(EvaluationError, match="ref_bpb_alpaca.json: average_ppl 1.0"):
        likelihood_questions(outputs, "smol", cache, ["ref_bpb_alpaca"])
    (outputs / "predictions" / "smol" / "ref_bpb_alpaca.json").unlink()
    with pytest.raises(EvaluationError, match="no predictions of dataset 'ref_bpb_alpaca'"):
        likelihood_questions(outputs, "smol", cache, ["ref_bpb_alpaca"])
