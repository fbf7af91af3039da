"""Judge model classes that OpenCompass builds from a generated config (imported by the ``opencompass`` process).

* ``CachedHFJudge`` / ``CachedOpenAIJudge``: OpenCompass's own ``HuggingFacewithChatTemplate`` / ``OpenAISDK``
  with a judgement cache: a judge prompt (which holds the model's output) already judged by the same judge is
  answered from ``cache_dir`` instead of the model, so re-evaluating a model reuses its judgements.
* ``ProbabilityJudge``: a judge too small to follow an output format (the embedded SmolLM2-135M) read through its
  next-token probabilities over the answers the benchmark allows, as DEITA's scorers read scores (Liu et al., DEITA,
  Sec. 2.3; ``selection_ops.annotation.deita``). The prompt is the benchmark's own judge prompt, the assistant turn is
  opened with the answer's prefix (``Rating: [[``, ``{"choice": "``), and each allowed answer's probability is its
  teacher-forced sequence probability, renormalised over the allowed answers. The output is written in the format
  OpenCompass's parser reads, followed by the probabilities: MT-Bench gets the expected rating (sum_s p(s) s, as
  DEITA's expected score); pairwise benchmarks the most probable choice. A prompt that matches no known format
  raises (never a made-up judgement).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from opencompass.models import HuggingFacewithChatTemplate, OpenAISDK

from selection_ops.foundation.atomic import write_text_atomic


class JudgementCache:
    """Judge outputs on disk, keyed by sha256(judge identity, judge prompt); one small JSON file per judgement."""

    def __init__(self, cache_dir: str | Path | None, judge_id: str):
        self.folder = Path(cache_dir) if cache_dir else None
        self.judge_id = judge_id
        self.hits = 0

    def key(self, prompt: object) -> str:
        text = json.dumps(prompt, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(f"{self.judge_id}\x00{text}".encode()).hexdigest()

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def get(self, prompt: object) -> str | None:
        if self.folder is None:
            return None
        path = self._path(self.key(prompt))
        if not path.is_file():
            return None
        self.hits += 1
        return json.loads(path.read_text(encoding="utf-8"))["output"]

    def put(self, prompt: object, output: str) -> None:
        if self.folder is not None:
            write_text_atomic(self._path(self.key(prompt)), json.dumps({"judge": self.judge_id, "output": output}))


def cached_generate(cache: JudgementCache, inputs: Sequence, generate) -> list[str]:
    """Outputs for ``inputs``: cached ones from ``cache``, the others from ``generate(missing_inputs)`` (stored)."""
    outputs: list[str | None] = [cache.get(list(item) if not isinstance(item, str) else item) for item in inputs]
    missing = [i for i, output in enumerate(outputs) if output is None]
    if missing:
        fresh = generate([inputs[i] for i in missing])
        for i, output in zip(missing, fresh, strict=True):
            outputs[i] = output
            cache.put(list(inputs[i]) if not isinstance(inputs[i], str) else inputs[i], output)
    return [str(output) for output in outputs]


class CachedHFJudge(HuggingFacewithChatTemplate):
    """OpenCompass's chat HF model as a judge, generating its judgement; cached per (judge, prompt)."""

    def __init__(self, *args, judge_id: str, cache_dir: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.judgement_cache = JudgementCache(cache_dir, judge_id)

    def generate(self, inputs, max_out_len, **kwargs):
        return cached_generate(self.judgement_cache, inputs,
                               lambda batch: super(CachedHFJudge, self).generate(batch, max_out_len, **kwargs))


class CachedOpenAIJudge(OpenAISDK):
    """OpenCompass's OpenAI-compatible client (lmdeploy / vLLM serving CompassJudger) as a judge; cached."""

    def __init__(self, *args, judge_id: str, cache_dir: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.judgement_cache = JudgementCache(cache_dir, judge_id)

    def generate(self, inputs, max_out_len, **kwargs):
        return cached_generate(self.judgement_cache, inputs,
                               lambda batch: super(CachedOpenAIJudge, self).generate(batch, max_out_len, **kwargs))


@dataclass(frozen=True)
class AnswerFormat:
    """How a benchmark's judge prompt is answered: ``marker`` identifies the prompt, ``prefix`` opens the
    assistant turn, ``answers`` are the allowed continuations (``suffix`` closes each, so "1" and "10" differ)."""

    benchmark: str
    marker: str
    prefix: str
    answers: tuple[str, ...]
    suffix: str
    expected_value: bool  # True: output the probability-weighted mean of the (numeric) answers

    def render(self, probabilities: dict[str, float]) -> str:
        listed = json.dumps({answer: round(p, 4) for answer, p in probabilities.items()})
        if self.expected_value:
            expected = sum(float(answer) * p for answer, p in probabilities.items())
            choice = f"{expected:.3f}"
        else:
            choice = max(probabilities, key=probabilities.get)
        return f"{self.prefix}{choice}{self.suffix}\n[judge probabilities: {listed}]"


# markers are phrases of each benchmark's judge prompt (OpenCompass's configs / loaders), most specific first
ANSWER_FORMATS = (
    AnswerFormat("wildbench", '"choice": "', '{"choice": "', ("A++", "A+", "A=B", "B+", "B++"), '"}', False),
    AnswerFormat("mtbench", "Rating: [[", "Rating: [[", tuple(str(i) for i in range(1, 11)), "]]", True),
    AnswerFormat("alpacaeval_v2", "m or M", "", ("m", "M"), "", False),
)


def answer_format(prompt_text: str) -> AnswerFormat:
    """The format whose marker the prompt contains; ValueError quoting the prompt's end otherwise."""
    for fmt in ANSWER_FORMATS:
        if fmt.marker in prompt_text:
            return fmt
    raise ValueError(f"no known judge answer format in prompt ...{prompt_text[-300:]!r}")


class ProbabilityJudge(HuggingFacewithChatTemplate):
    """Judge mode ``probability``: reads the judge's probabilities over the allowed answers (see module doc)."""

    def __init__(self, *args, judge_id: str, cache_dir: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.judgement_cache = JudgementCache(cache_dir, judge_id)

    def generate(self, inputs, max_out_len, **kwargs):
        return cached_generate(self.judgement_cache, inputs, self._judge_all)

    def _judge_all(self, inputs) -> list[str]:
        from opencompass.models.huggingface_above_v4_33 import _convert_chat_messages

        outputs = []
        for messages in _convert_chat_messages(inputs):
            prompt = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
            fmt = answer_format(prompt)
            outputs.append(fmt.render(self.answer_probabilities(prompt + fmt.prefix, fmt)))
        return outputs

    def answer_probabilities(self, prompt: str, fmt: AnswerFormat) -> dict[str, float]:
        """p(answer | prompt) over ``fmt.answers``, renormalised: one forward pass over the prompt, then all answers
        in one batch on its cached keys and values."""
        import torch

        tokenizer, model = self.tokenizer, self.model
        prompt_ids = tokenizer(prompt, add_special_tokens=False, return_tensors="pt")["input_ids"]
        prompt_ids = prompt_ids[:, -(self.max_seq_len - 8):].to(model.device)  # keep the end: the question is there
        answers = [tokenizer(a + fmt.suffix, add_special_tokens=False)["input_ids"] for a in fmt.answers]
        width = max(len(ids) for ids in answers)
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        answer_ids = torch.tensor([ids + [pad] * (width - len(ids)) for ids in answers], device=model.device)
        answer_mask = torch.tensor([[1] * len(ids) + [0] * (width - len(ids)) for ids in answers],
                                   device=model.device)
        with torch.no_grad():
            first = model(input_ids=prompt_ids, use_cache=True)
            cache = first.past_key_values
            cache.batch_repeat_interleave(len(answers))
            mask = torch.cat([torch.ones(len(answers), prompt_ids.shape[1], dtype=answer_mask.dtype,
                                         device=model.device), answer_mask], dim=1)
            rest = model(input_ids=answer_ids, attention_mask=mask, past_key_values=cache, use_cache=False)
        first_logp = torch.log_softmax(first.logits[0, -1].float(), dim=-1)
        rest_logp = torch.log_softmax(rest.logits.float(), dim=-1)
        scores = []
        for row, ids in enumerate(answers):
            total = float(first_logp[ids[0]])
            for position in range(1, len(ids)):
                total += float(rest_logp[row, position - 1, ids[position]])
            scores.append(total)
        top = max(scores)
        weights = [math.exp(s - top) for s in scores]
        norm = sum(weights)
        return {answer: w / norm for answer, w in zip(fmt.answers, weights)}
