"""Instruction-following difficulty (Cherry, Li et al., 2024) and Superfiltering's ratio (Li et al., 2024b).

For the (first) instruction Q and its response A, with a causal LM theta:

    s(A|Q) = mean_t CE(a_t | Q, a_<t)    (conditioned answer loss)
    s(A)   = mean_t CE(a_t | a_<t)       (direct answer loss)
    IFD    = s(A|Q) / s(A)                                        (Cherry, Eq. 3: a ratio of mean losses)
    superfilter_ratio = PPL(A|Q) / PPL(A) = exp(s(A|Q) - s(A))    (Superfiltering, with a small LM)

Both losses average over exactly the same response tokens: the direct sequence starts with one start token
(the tokenizer's BOS, else EOS) so that the first response token is predicted in both. The prompt is the
tokenizer's chat template with a generation prompt when there is one, else Cherry's Alpaca template. Over
``max_tokens``, the prompt keeps at most half of the budget (cut at its end) and the response the rest.
IFD near or above 1 means the instruction does not help to produce the response (Cherry filters those out);
small IFD means the response is easy given the instruction.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from selection_ops.annotation.base import Annotator
from selection_ops.annotation.lm_utils import IGNORE, mean_token_losses
from selection_ops.annotation.models import ModelHolder, load_causal_lm, load_tokenizer
from selection_ops.annotation.text import Sample

ALPACA_TEMPLATE = ("Below is an instruction that describes a task. Write a response that appropriately completes the "
                   "request.\n\n### Instruction:\n{instruction}\n\n### Response:\n")


class IFDScorer(ModelHolder, Annotator):
    """Writes ``ifd_loss_conditioned``, ``ifd_loss_direct``, ``ifd`` and ``superfilter_ratio``."""

    name = "ifd"
    version = "1"
    default_max_tokens = 1024

    def settings(self) -> dict[str, Any]:
        return self.model_settings()

    def output_columns(self) -> tuple[str, ...]:
        return ("ifd_loss_conditioned", "ifd_loss_direct", "ifd", "superfilter_ratio")

    def prompt_ids(self, tokenizer: Any, instruction: str) -> list[int]:
        if getattr(tokenizer, "chat_template", None):
            return list(tokenizer.apply_chat_template([{"role": "user", "content": instruction}], tokenize=True,
                                                      add_generation_prompt=True))
        return tokenizer.encode(ALPACA_TEMPLATE.format(instruction=instruction), add_special_tokens=False)

    def sequences(self, tokenizer: Any, instruction: str, response: str) -> tuple[list[int], list[int], list[int],
                                                                                  list[int]]:
        """(conditioned ids, conditioned labels, direct ids, direct labels); labels IGNORE outside the response."""
        start = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
        prompt = self.prompt_ids(tokenizer, instruction)[:self.max_tokens // 2]
        answer = tokenizer.encode(response, add_special_tokens=False)[:self.max_tokens - len(prompt)]
        conditioned = prompt + answer
        conditioned_labels = [IGNORE] * len(prompt) + answer
        direct = [start] + answer
        direct_labels = [IGNORE] + answer
        return conditioned, conditioned_labels, direct, direct_labels

    def annotate(self, samples: Sequence[Sample]) -> list[dict[str, Any]]:
        tokenizer = load_tokenizer(self.model_path)
        model = load_causal_lm(self.model_path, self.device, self.dtype)
        rows = []
        for start in range(0, len(samples), self.batch_size):
            batch = samples[start:start + self.batch_size]
            built = [self.sequences(tokenizer, s.instruction, s.response) for s in batch]
            conditioned = mean_token_losses(model, [b[0] for b in built], [b[1] for b in built],
                                            tokenizer.pad_token_id, self.device)
            direct = mean_token_losses(model, [b[2] for b in built], [b[3] for b in built], tokenizer.pad_token_id,
                                       self.device)
            for sample, loss_q, loss_a in zip(batch, conditioned, direct):
                if math.isnan(loss_q) or math.isnan(loss_a) or loss_a <= 0:
                    raise ValueError(f"record {sample.id!r}: IFD undefined (empty response or zero direct loss: "
                                     f"s(A|Q)={loss_q}, s(A)={loss_a})")
                rows.append({"ifd_loss_conditioned": loss_q, "ifd_loss_direct": loss_a, "ifd": loss_q / loss_a,
                             "superfilter_ratio": math.exp(loss_q - loss_a)})
        return rows
