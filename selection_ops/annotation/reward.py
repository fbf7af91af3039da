"""Reward-model score from any Hugging Face sequence-classification checkpoint (survey Sec. 3.2, Eq. 8).

The (first) instruction and response are formatted with the tokenizer's chat template when it has one (how
chat reward models such as Skywork or ArmoRM expect them), else encoded as a text pair ``(instruction,
response)`` (how cross-encoder reward models such as OpenAssistant's DeBERTa expect them), truncated to
``max_tokens``. The score is the single logit of a ``num_labels == 1`` head; other heads are rejected
rather than guessed at.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from selection_ops.annotation.base import Annotator
from selection_ops.annotation.models import ModelHolder, resolve_dtype
from selection_ops.annotation.text import Sample


@functools.lru_cache(maxsize=2)
def _load(path: str, device: str, dtype: str, trust_remote_code: bool = False) -> tuple[Any, Any]:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code)
    model = AutoModelForSequenceClassification.from_pretrained(path, dtype=resolve_dtype(dtype, device),
                                                               trust_remote_code=trust_remote_code)
    if model.config.num_labels != 1:
        raise ValueError(f"reward model {path}: expected a one-logit head (num_labels=1), got "
                         f"num_labels={model.config.num_labels}")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if model.config.pad_token_id is None:
        model.config.pad_token_id = tokenizer.pad_token_id
    return tokenizer, model.to(device).eval()


class RewardScorer(ModelHolder, Annotator):
    """Writes ``reward`` (float, the checkpoint's logit)."""

    name = "reward"
    version = "1"
    default_max_tokens = 1024
    required_model = "a sequence-classification checkpoint"

    def settings(self) -> dict[str, Any]:
        return self.model_settings()

    def output_columns(self) -> tuple[str, ...]:
        return ("reward",)

    def encode(self, tokenizer: Any, batch: Sequence[Sample]) -> Any:
        if getattr(tokenizer, "chat_template", None):
            texts = [tokenizer.apply_chat_template([{"role": "user", "content": s.instruction},
                                                    {"role": "assistant", "content": s.response}], tokenize=False)
                     for s in batch]
            return tokenizer(texts, return_tensors="pt", padding=True, truncation=True, max_length=self.max_tokens,
                             add_special_tokens=False)
        return tokenizer([s.instruction for s in batch], [s.response for s in batch], return_tensors="pt",
                         padding=True, truncation=True, max_length=self.max_tokens)

    def annotate(self, samples: Sequence[Sample]) -> list[dict[str, Any]]:
        import torch

        tokenizer, model = _load(self.model_path, self.device, self.dtype)
        rows = []
        for start in range(0, len(samples), self.batch_size):
            batch = samples[start:start + self.batch_size]
            encoded = self.encode(tokenizer, batch).to(self.device)
            with torch.inference_mode():
                logits = model(**encoded).logits.float().cpu()  # (b, 1)
            rows += [{"reward": float(value)} for value in logits[:, 0]]
        return rows
