"""The likelihood channel through OpenCompass's real CLI on the embedded base model, checked against a direct
``transformers`` computation on the same inputs (same chat template, same tokens), in the same OpenCompass run as a
knowledge benchmark (one process, one model load)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from resources.opencompass import OpenCompassRunner
from selection_ops.evaluation.likelihood_data import CLOZE_PROMPT
from selection_ops.foundation.devices import cuda_available

# float32 on a CPU: batched and unbatched passes agree to ~1e-6; bfloat16 (what the runner uses on a GPU) to ~1e-2
REL = 2e-2 if cuda_available() else 1e-4


@pytest.fixture(scope="module")
def likelihood_run(smollm2_hf: Path, data_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """3 AlpacaEval references, 3 ARC-Challenge questions in cloze form and generated (``arc_c``), 1 MT-Bench
    dialogue: one OpenCompass run. batch_size 3 splits the ARC choices (4 a question) across batches: shared-prompt
    groups and single rows both."""
    runner = OpenCompassRunner(datasets=["arc_c", "ref_bpb_alpaca", "arc_c_cloze", "ref_bpb_mtbench"],
                               sample_limit=3, sample_limits={"ref_bpb_mtbench": 1}, data_dir=str(data_dir),
                               batch_size=3, max_out_len=8)
    return runner.evaluate(model_path=smollm2_hf, model_name="smol", work_dir=tmp_path_factory.mktemp("likelihood"))


@pytest.fixture(scope="module")
def direct(smollm2_hf: Path):
    """``continuation_loglikelihood(messages, continuation)``: one unbatched forward pass over the chat-templated
    prompt + continuation; the continuation's tokens are those after the prompt's own tokenization."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(smollm2_hf)
    dtype = torch.bfloat16 if cuda_available() else torch.float32  # as config.hf_model_entry
    model = AutoModelForCausalLM.from_pretrained(smollm2_hf, dtype=dtype, device_map="auto").eval()

    def continuation_loglikelihood(messages: list[dict], continuation: str) -> tuple[float, int]:
        prompt = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        ids = tokenizer(prompt + continuation, add_special_tokens=False)["input_ids"]
        assert ids[:len(prompt_ids)] == prompt_ids  # the boundary does not merge tokens
        with torch.no_grad():
            logits = model(torch.tensor([ids], device=model.device)).logits[0].double()
        logprobs = torch.log_softmax(logits, dim=-1)
        total = sum(float(logprobs[t - 1, ids[t]]) for t in range(len(prompt_ids), len(ids)))
        return total, len(ids) - len(prompt_ids)

    return continuation_loglikelihood


@pytest.mark.slow
def test_reference_bits_per_byte_match_a_direct_computation(likelihood_run, direct, data_dir: Path) -> None:
    questions = json.loads((data_dir / "alpaca_eval" / "alpaca_eval.json").read_text())
    references = json.loads((data_dir / "alpaca_eval_v2" / "gpt4_1106_preview_model_outputs.json").read_text())
    rows = [q for q in likelihood_run.questions if q.benchmark == "ref_bpb_alpaca"]
    assert len(rows) == 3 and likelihood_run.proxy_n["ref_bpb_alpaca"] == 3
    for row in rows:
        index = int(row.question.split("/")[1])
        reference = references[index]["output"]
        loglikelihood, _ = direct([{"role": "user", "content": questions[index]["instruction"]}], reference)
        expected = -loglikelihood / (math.log(2) * len(reference.encode("utf-8")))
        assert row.score == pytest.approx(expected, rel=REL)
    mean = sum(r.score for r in rows) / 3
    assert likelihood_run.proxy_scores["ref_bpb_alpaca"] == pytest.approx(mean)
    # the proxy channel stays out of the knowledge scores and Avg_obj
    assert set(likelihood_run.scores) == {"arc_c"} and likelihood_run.avg_obj == likelihood_run.scores["arc_c"]


@pytest.mark.slow
def test_mtbench_turns_score_the_reference_dialogue(likelihood_run, direct, data_dir: Path) -> None:
    rows = {q.question: q for q in likelihood_run.questions if q.benchmark == "ref_bpb_mtbench"}
    assert set(rows) == {"mt_bench/101/turn1", "mt_bench/101/turn2"}  # the first referenced question (reasoning)
    assert {q.cluster for q in rows.values()} == {"mt_bench/101"}
    question = next(json.loads(line) for line in (data_dir / "mt_bench" / "question.jsonl").open()
                    if json.loads(line)["question_id"] == 101)
    answers = next(json.loads(line) for line in (data_dir / "mt_bench" / "reference_answer_gpt-4.jsonl").open()
                   if json.loads(line)["question_id"] == 101)["choices"][0]["turns"]
    history = [{"role": "user", "content": question["turns"][0]}, {"role": "assistant", "content": answers[0]},
               {"role": "user", "content": question["turns"][1]}]
    for turn, messages in ((1, history[:1]), (2, history)):
        loglikelihood, _ = direct(messages, answers[turn - 1])
        expected = -loglikelihood / (math.log(2) * len(answers[turn - 1].encode("utf-8")))
        assert rows[f"mt_bench/101/turn{turn}"].score == pytest.approx(expected, rel=REL)


@pytest.mark.slow
def test_arc_cloze_metrics_match_a_direct_computation(likelihood_run, direct, data_dir: Path) -> None:
    source = [json.loads(line) for line in (data_dir / "arc_challenge" / "ARC-Challenge-test.jsonl").open()]
    four_choice = [r for r in source if len(r["choices"]["text"]) == 4][:3]
    scores = {(q.benchmark, q.question): q.score for q in likelihood_run.questions}
    for index, row in enumerate(four_choice):
        messages = [{"role": "user", "content": CLOZE_PROMPT.format(question=row["question"])}]
        texts = row["choices"]["text"]
        gold = row["choices"]["label"].index(row["answerKey"])
        per_char = [direct(messages, text)[0] / len(text) for text in texts]
        probs = [math.exp(x) for x in per_char]
        qid = f"ARC-c/{index}"
        assert scores[("arc_c_prob", qid)] == pytest.approx(probs[gold], rel=REL)
        assert scores[("arc_c_prob_norm", qid)] == pytest.approx(probs[gold] / sum(probs), rel=REL)
        assert scores[("arc_c_margin", qid)] == pytest.approx(
            probs[gold] - max(p for c, p in enumerate(probs) if c != gold), rel=REL, abs=1e-6)
        assert scores[("arc_c_acc", qid)] == float(max(range(4), key=per_char.__getitem__) == gold)
    assert {k: likelihood_run.proxy_n[k] for k in ("arc_c_prob", "arc_c_acc")} == {"arc_c_prob": 3, "arc_c_acc": 3}
    acc = [scores[("arc_c_acc", f"ARC-c/{i}")] for i in range(3)]
    assert likelihood_run.proxy_scores["arc_c_acc"] == pytest.approx(100 * sum(acc) / 3)  # a percentage


@pytest.mark.slow
def test_one_opencompass_task_serves_both_channels(likelihood_run) -> None:
    log = likelihood_run.log_path.read_text()
    assert log.count("Start inferencing [smol/") == 5  # ARC-c generated, alpaca, cloze, two MT-Bench turns
    assert log.count("Task [smol/") == 1  # one task: the model is loaded once
    generated = [q for q in likelihood_run.questions if q.benchmark == "arc_c"]
    cloze = [q for q in likelihood_run.questions if q.benchmark == "arc_c_acc"]
    assert [q.question for q in generated] == [q.question for q in cloze] == ["ARC-c/0", "ARC-c/1", "ARC-c/2"]
    assert 100 * sum(q.score for q in generated) / 3 == pytest.approx(likelihood_run.scores["arc_c"], abs=0.005)
    assert "ChatLikelihoodModel" in (likelihood_run.log_path.parent / "config" / "eval_config.py").read_text()
    summary = likelihood_run.summary_path.read_text()
    assert "arc_c_cloze" in summary and "average_ppl" in summary  # OpenCompass's own pooled NLL per token
