"""DEITA quality and complexity scorers (Liu et al., 2024, "What Makes Good Data for Alignment?", Sec. 2.2-2.3).

Each scorer is a causal LM (officially hkust-nlp/deita-quality-scorer and deita-complexity-scorer, LLaMA-based)
prompted with DEITA's templates (below, as in hkust-nlp/deita). The score is the expectation of the rating
under the model's next-token distribution restricted to the six digit tokens at the first generated position:

    score = sum_{k=1..6} k * softmax(logit("1"), ..., logit("6"))_k          (in [1, 6])

Complexity reads the query, quality reads the query and the response. Multi-turn conversations are scored per
turn (``deita_*_turns``); ``deita_*`` is the mean over turns and the pipeline's ``deita_score`` is DEITA's
sum over turns of quality x complexity. A digit that the tokenizer cannot express as one token, or a
non-finite logit, raises ``DeitaScoreError`` naming the record: DEITA's own code returns 3.0 (or 2.0) on such
errors, we never invent a value.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from selection_ops.annotation.base import Annotator
from selection_ops.annotation.lm_utils import last_token_logits
from selection_ops.annotation.models import ModelHolder, load_causal_lm, load_tokenizer
from selection_ops.annotation.text import Sample

logger = logging.getLogger(__name__)

COMPLEXITY_TEMPLATE = ("You are a helpful assistant. Please identify the complexity score of the following user "
                       "query. \n##Query: {instruction}  \n##Complexity: ")
QUALITY_TEMPLATE = ("You are a helpful assistant. Please identify the quality score of the Response corresponding "
                    "to the Question. \n #Question#:\n{instruction}\n#Response#:\n{output} \n##Quality: ")
SCORE_DIGITS = ("1", "2", "3", "4", "5", "6")


class DeitaScoreError(ValueError):
    """A DEITA score cannot be computed for a record; the message names it."""


def expected_score(digit_logits: np.ndarray, record_id: str = "?") -> float:
    """sum_k k * softmax(digit_logits)_k for the logits of "1".."6" (shape (6,)); in [1, 6]."""
    logits = np.asarray(digit_logits, dtype=np.float64)
    if logits.shape != (6,):
        raise DeitaScoreError(f"record {record_id!r}: expected 6 digit logits, got shape {logits.shape}")
    if not np.isfinite(logits).all():
        raise DeitaScoreError(f"record {record_id!r}: non-finite digit logits {logits.tolist()}")
    weights = np.exp(logits - logits.max())
    weights /= weights.sum()
    return float(np.dot(weights, np.arange(1, 7)))


def score_from_top_logprobs(top_logprobs: Mapping[str, float], record_id: str) -> float:
    """The DEITA score from a {token: logprob} map of the first generated position (vLLM / OpenAI ``logprobs``).

    Every digit "1".."6" must be present; a missing one raises (DEITA's code substitutes 2.0 or 3.0).
    Softmax over logprobs equals softmax over logits (they differ by one constant).
    """
    missing = [d for d in SCORE_DIGITS if d not in top_logprobs]
    if missing:
        raise DeitaScoreError(f"record {record_id!r}: digit token(s) {missing} not among the returned top logprobs; "
                              "ask for more logprobs (DEITA uses 20 or more)")
    return expected_score(np.array([top_logprobs[d] for d in SCORE_DIGITS]), record_id)


def digit_token_ids(tokenizer: Any, model_name: str) -> list[int]:
    """The vocabulary ids of the single tokens "1".."6"; DeitaScoreError when a digit is not one token."""
    ids = []
    for digit in SCORE_DIGITS:
        encoded = tokenizer.encode(digit, add_special_tokens=False)
        if len(encoded) == 2 and tokenizer.convert_ids_to_tokens(encoded[0]) in ("▁", "Ġ", " "):
            encoded = encoded[1:]  # sentencepiece prefix-space piece before the digit
        if len(encoded) != 1:
            raise DeitaScoreError(f"model {model_name}: digit {digit!r} is not a single token ({encoded})")
        ids.append(int(encoded[0]))
    return ids


class DeitaScorer(ModelHolder, Annotator):
    """``aspect`` 'complexity' or 'quality'; writes ``deita_<aspect>`` and ``deita_<aspect>_turns``."""

    version = "1"
    default_max_tokens = 2048

    def __init__(self, aspect: str, model_path: str = "", max_tokens: int | None = None,
                 batch_size: int | None = None, device: str = "auto", dtype: str = "auto") -> None:
        if aspect not in ("complexity", "quality"):
            raise ValueError(f"aspect must be 'complexity' or 'quality', got {aspect!r}")
        super().__init__(model_path, max_tokens, batch_size, device, dtype)
        self.aspect = aspect
        self.name = f"deita_{aspect}"
        self.template = COMPLEXITY_TEMPLATE if aspect == "complexity" else QUALITY_TEMPLATE

    def settings(self) -> dict[str, Any]:
        return {**self.model_settings(), "template_sha1": hashlib.sha1(self.template.encode()).hexdigest()[:12]}

    def output_columns(self) -> tuple[str, ...]:
        return (self.name, f"{self.name}_turns")

    def _truncate(self, tokenizer: Any, text: str, budget: int) -> str:
        ids = tokenizer.encode(text, add_special_tokens=False)
        return text if len(ids) <= budget else tokenizer.decode(ids[:max(budget, 1)])

    def prompt(self, tokenizer: Any, instruction: str, output: str) -> list[int]:
        """Token ids of the filled template; over ``max_tokens`` the query keeps at most half of the room
        left by the template (all of it for complexity) and the response the rest, each cut at its end."""
        room = self.max_tokens - len(tokenizer.encode(self.template.format(instruction="", output=""),
                                                       add_special_tokens=False)) - 2
        if self.aspect == "complexity":
            instruction = self._truncate(tokenizer, instruction, room)
        else:
            instruction = self._truncate(tokenizer, instruction, room // 2)
            used = len(tokenizer.encode(instruction, add_special_tokens=False))
            output = self._truncate(tokenizer, output, room - used)
        return tokenizer.encode(self.template.format(instruction=instruction, output=output))

    def digit_logits(self, prompts: Sequence[Sequence[int]]) -> np.ndarray:
        """(n_prompts, 6) logits of "1".."6" at the first generated position."""
        tokenizer = load_tokenizer(self.model_path)
        model = load_causal_lm(self.model_path, self.device, self.dtype)
        digits = digit_token_ids(tokenizer, self.model_path)
        rows = []
        for start in range(0, len(prompts), self.batch_size):
            logits = last_token_logits(model, prompts[start:start + self.batch_size], tokenizer.pad_token_id,
                                       self.device)
            rows.append(logits[:, digits].numpy())
        return np.concatenate(rows, axis=0) if rows else np.zeros((0, 6))

    def annotate(self, samples: Sequence[Sample]) -> list[dict[str, Any]]:
        tokenizer = load_tokenizer(self.model_path)
        owners: list[tuple[int, str]] = []
        prompts: list[list[int]] = []
        for index, sample in enumerate(samples):
            for query, reply in sample.turns:
                prompts.append(self.prompt(tokenizer, query, reply))
                owners.append((index, sample.id))
        logits = self.digit_logits(prompts)
        per_sample: list[list[float]] = [[] for _ in samples]
        for (index, record_id), row in zip(owners, logits):
            per_sample[index].append(expected_score(row, record_id))
        return [{self.name: float(np.mean(turns)), f"{self.name}_turns": turns} for turns in per_sample]
