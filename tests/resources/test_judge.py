"""The judge resource and the probability-reading judge on the real embedded SmolLM2: probabilities equal to a
plain teacher-forced computation, outputs that OpenCompass's parsers read, and the judgement cache."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from resources.judge import JudgeResource

SECRET = "sk-never-shown-0000"


def test_resource_gives_plain_settings_without_leaking_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFOSIFT_JUDGE_API_KEY", SECRET)
    settings = JudgeResource(kind="openai", url="http://127.0.0.1:9/v1", model_name="cj",
                             tokenizer_path="/tok").settings()
    assert settings.resolved_key() == SECRET and settings.environment() == {"OPENAI_API_KEY": SECRET}
    assert SECRET not in repr(settings) and settings.identity() == "openai:cj@http://127.0.0.1:9/v1/generate"
    hf = JudgeResource(kind="hf", model_path="/models/CompassJudger-1-7B-Instruct").settings()
    assert hf.identity() == "hf:/models/CompassJudger-1-7B-Instruct/generate" and hf.trust_remote_code is False
    with pytest.raises(ValueError, match="judge mode must be"):
        JudgeResource(model_path="/m", mode="vote").settings()


@pytest.fixture(scope="module")
def probability_judge(smollm2_hf: Path, tmp_path_factory: pytest.TempPathFactory):
    from selection_ops.evaluation.judge_models import ProbabilityJudge

    return ProbabilityJudge(path=str(smollm2_hf), judge_id="test", max_seq_len=2048,
                            cache_dir=str(tmp_path_factory.mktemp("cache")),
                            model_kwargs={"torch_dtype": "torch.float32", "trust_remote_code": False},
                            tokenizer_kwargs={"trust_remote_code": False})


@pytest.mark.slow
def test_probabilities_match_a_plain_teacher_forced_computation(probability_judge) -> None:
    import torch

    from selection_ops.evaluation.judge_models import ANSWER_FORMATS

    judge = probability_judge
    fmt = next(f for f in ANSWER_FORMATS if f.benchmark == "mtbench")  # "1" and "10" share their first token
    prompt = judge.tokenizer.apply_chat_template(
        [{"role": "user", "content": "Rate the answer 'Paris' to 'capital of France?'. Format: Rating: [[5]]"}],
        add_generation_prompt=True, tokenize=False) + fmt.prefix
    fast = judge.answer_probabilities(prompt, fmt)
    prompt_ids = judge.tokenizer(prompt, add_special_tokens=False)["input_ids"]
    scores = []
    for answer in fmt.answers:
        ids = judge.tokenizer(answer + fmt.suffix, add_special_tokens=False)["input_ids"]
        with torch.no_grad():
            logp = torch.log_softmax(judge.model(torch.tensor([prompt_ids + ids])).logits[0].float(), dim=-1)
        scores.append(sum(float(logp[len(prompt_ids) - 1 + k, token]) for k, token in enumerate(ids)))
    norm = sum(math.exp(s) for s in scores)
    for answer, score in zip(fmt.answers, scores):
        assert fast[answer] == pytest.approx(math.exp(score) / norm, abs=1e-5)
    assert sum(fast.values()) == pytest.approx(1.0)


@pytest.mark.slow
def test_outputs_parse_with_opencompass_and_are_cached(probability_judge) -> None:
    from opencompass.datasets.subjective.alpacaeval import post_process_alpacav2
    from opencompass.datasets.subjective.mtbench import post_process_mtbench
    from opencompass.datasets.subjective.wildbench import post_process_wildbench_pair

    prompts = ["Which output is better? Answer m or M. m: 'Paris'. M: 'Lyon'. Question: capital of France?",
               "Rate the answer 'Paris'. You must answer in the format \"Rating: [[5]]\".",
               'Compare Response A and B and output JSON with "choice": "A++" ... "B++". A: Paris. B: Lyon.']
    outputs = probability_judge.generate(prompts, max_out_len=8)
    assert post_process_alpacav2({"prediction": outputs[0]})["rank"] in (1, 2)
    assert 1.0 <= post_process_mtbench({"prediction": outputs[1]})["score"] <= 10.0
    assert post_process_wildbench_pair({"prediction": outputs[2]}) in ("A++", "A+", "A=B", "B+", "B++")
    assert all("[judge probabilities:" in output for output in outputs)
    hits = probability_judge.judgement_cache.hits
    assert probability_judge.generate(prompts, max_out_len=8) == outputs
    assert probability_judge.judgement_cache.hits == hits + 3
    with pytest.raises(ValueError, match="no known judge answer format"):
        probability_judge.generate(["Tell me a joke."], max_out_len=8)
