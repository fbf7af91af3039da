"""The evaluated model as OpenCompass builds it when a run includes the likelihood channel (imported by the
``opencompass`` process through the generated config).

``ChatLikelihoodModel`` is OpenCompass's own ``HuggingFacewithChatTemplate`` (same loading, dtype, LoRA adapter,
generation: the knowledge benchmarks of the same run are unaffected) with an exact ``get_ppl_tokenwise``, the method
OpenCompass's ``InferencePPLOnlyInferencer`` calls. Ours because OpenCompass 0.5.4's version of it maps tokens to
characters by decoding them one by one with a per-model-name guess for split UTF-8 characters, ignores every token
equal to the pad token (SmolLM2's pad is ``<|im_end|>``) and prints each token's loss.

For each row (a string: the chat-templated prompt followed by the continuation, ``likelihood_data``) and its label
(character spans ``[[start, end, 1], ...]`` of the scored continuation), it returns

    nll = - sum_{t in S} log p(x_t | x_<t)   (nats)        and        |S|

where ``S`` are the tokens of the whole row's tokenization (the chat template carries its own special tokens, so
none are added, as ``HuggingFacewithChatTemplate.generate`` does) whose character offsets lie inside a span. A token
that straddles a span boundary, or a row longer than the model's context, raises (never a truncated score).
Rows are batched (the inferencer's ``batch_size``) right-padded with an attention mask, so padding changes no real
token's logits; rows of similar length share a forward pass (``MAX_PADDING``) and only the positions from the first
scored token on get logits, at most ``MAX_LOGITS`` logit values at once. Consecutive rows that share their tokens
up to the first scored one (a cloze question's choices: one prompt, several answers) share one forward pass over
that prompt: its keys and values are computed once and every answer runs on them in one batch (as
``judge_models.ProbabilityJudge`` reads answers).
"""

from __future__ import annotations

from collections.abc import Sequence

from opencompass.models import HuggingFacewithChatTemplate

# logits held at once per forward pass (float32: 1 GiB); a single longer row still runs alone
MAX_LOGITS = 2**28
# rows padded together: the longest at most this many times the shortest
MAX_PADDING = 1.25


def scored_positions(offsets: Sequence[tuple[int, int]], spans: Sequence[Sequence[int]], row: str) -> list[int]:
    """Indices of the tokens whose character offsets ``(start, end)`` lie inside one of ``spans``
    (``[start, end, ...]``); ValueError (quoting the row's start) for a token across a span boundary, a span
    with no token, or a scored first token (it has no context)."""
    positions = []
    for span in spans:
        begin, end = int(span[0]), int(span[1])
        inside = []
        for index, (start, stop) in enumerate(offsets):
            if begin <= start and stop <= end and stop > start:
                inside.append(index)
            elif start < begin < stop or start < end < stop:
                raise ValueError(f"token {index} (characters {start}-{stop}) straddles the scored span {begin}-{end} "
                                 f"of row {row[:80]!r}...: the prompt and the continuation merge into one token")
        if not inside:
            raise ValueError(f"no token inside the scored span {begin}-{end} of row {row[:80]!r}...")
        positions += inside
    if positions and positions[0] == 0:
        raise ValueError(f"row {row[:80]!r}... scores its first token, which has no context")
    return sorted(set(positions))


def shared_prompt_groups(rows: Sequence[tuple[list[int], list[int]]]) -> list[list[int]]:
    """Runs of consecutive row indices whose token ids agree up to their first scored token (same position)."""
    groups: list[list[int]] = []
    for index, (ids, positions) in enumerate(rows):
        if groups:
            head_ids, head_positions = rows[groups[-1][0]]
            if positions[0] == head_positions[0] and ids[:positions[0]] == head_ids[:head_positions[0]]:
                groups[-1].append(index)
                continue
        groups.append([index])
    return groups


class ChatLikelihoodModel(HuggingFacewithChatTemplate):
    """``HuggingFacewithChatTemplate`` with an exact, batched ``get_ppl_tokenwise`` (see module doc)."""

    def get_ppl_tokenwise(self, inputs, label, mask_length=None) -> tuple[list[float], list[int]]:
        if mask_length is not None:
            raise NotImplementedError("ChatLikelihoodModel scores label spans; mask_length is not supported")
        texts = list(inputs)
        if not all(isinstance(text, str) for text in texts):
            raise TypeError("ChatLikelihoodModel.get_ppl_tokenwise expects rendered strings (a '{text}' template)")
        if len(label) != len(texts):
            raise ValueError(f"{len(texts)} rows but {len(label)} labels")
        limit = getattr(self.model.config, "max_position_embeddings", None) or self.max_seq_len
        rows = []
        for text, spans in zip(texts, label, strict=True):
            encoded = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
            ids = list(encoded["input_ids"])
            if len(ids) > limit:
                raise ValueError(f"row {text[:80]!r}... has {len(ids)} tokens, more than the model's {limit}")
            rows.append((ids, scored_positions(encoded["offset_mapping"], spans, text)))
        nll = [0.0] * len(rows)
        singles = []
        for group in shared_prompt_groups(rows):
            if len(group) == 1:
                singles += group
                continue
            for index, value in zip(group, self._shared_prompt_nll([rows[i] for i in group]), strict=True):
                nll[index] = value
        for batch in self._sub_batches([rows[i] for i in singles]):
            for index, value in zip(batch, self._nll([rows[singles[i]] for i in batch]), strict=True):
                nll[singles[index]] = value
        return nll, [len(positions) for _, positions in rows]

    def _sub_batches(self, rows: list[tuple[list[int], list[int]]]) -> list[list[int]]:
        """Row indices grouped for one padded forward pass each: by length, a row joining a group only when the
        group's longest row is at most ``MAX_PADDING`` times its shortest (padding costs as much as text on a CPU:
        eight AlpacaEval references of 160-1,700 tokens ran 30% slower padded together than one by one) and the
        kept logits (rows x positions x vocabulary) stay under ``MAX_LOGITS``."""
        vocab = self.model.get_output_embeddings().weight.shape[0]
        batches: list[list[int]] = []
        for index in sorted(range(len(rows)), key=lambda i: len(rows[i][0])):
            if batches:
                trial = [*batches[-1], index]
                shortest, longest = len(rows[trial[0]][0]), len(rows[index][0])
                width = longest - min(rows[i][1][0] for i in trial) + 1
                if longest <= MAX_PADDING * shortest and len(trial) * width * vocab <= MAX_LOGITS:
                    batches[-1] = trial
                    continue
            batches.append([index])
        return batches

    def _nll(self, rows: list[tuple[list[int], list[int]]]) -> list[float]:
        """``-sum log p(x_t | x_<t)`` over each row's scored positions: one right-padded forward pass."""
        import torch

        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        length = max(len(ids) for ids, _ in rows)
        first = min(positions[0] for _, positions in rows)
        input_ids = torch.tensor([ids + [pad] * (length - len(ids)) for ids, _ in rows], device=self.model.device)
        attention = torch.tensor([[1] * len(ids) + [0] * (length - len(ids)) for ids, _ in rows],
                                 device=self.model.device)
        keep = length - (first - 1)  # logits of positions first-1 .. length-1 (position t-1 predicts token t)
        with torch.no_grad():
            logits = self.model(input_ids=input_ids, attention_mask=attention, logits_to_keep=keep).logits
        offset = length - keep
        sums = []
        for row, (ids, positions) in enumerate(rows):
            at = torch.tensor([t - 1 - offset for t in positions], device=logits.device)
            targets = torch.tensor([ids[t] for t in positions], device=logits.device)
            logprobs = torch.log_softmax(logits[row, at].float(), dim=-1)
            sums.append(-float(logprobs.gather(1, targets[:, None]).double().sum()))
        return sums

    def _shared_prompt_nll(self, rows: list[tuple[list[int], list[int]]]) -> list[float]:
        """``_nll`` of rows sharing their first ``p`` tokens (p = their first scored position): one forward pass
        over those tokens with a key/value cache, then the rows' remaining tokens in one right-padded batch on it."""
        import torch

        prompt = rows[0][1][0]
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        rests = [ids[prompt:] for ids, _ in rows]
        width = max(len(rest) for rest in rests)
        device = self.model.device
        rest_ids = torch.tensor([rest + [pad] * (width - len(rest)) for rest in rests], device=device)
        mask = torch.tensor([[1] * (prompt + len(rest)) + [0] * (width - len(rest)) for rest in rests], device=device)
        with torch.no_grad():
            first = self.model(input_ids=torch.tensor([rows[0][0][:prompt]], device=device), use_cache=True,
                               logits_to_keep=1)
            cache = first.past_key_values
            cache.batch_repeat_interleave(len(rows))
            rest = self.model(input_ids=rest_ids, attention_mask=mask, past_key_values=cache, use_cache=False).logits
        first_logprobs = torch.log_softmax(first.logits[0, -1].float(), dim=-1).double()
        sums = []
        for row, (ids, positions) in enumerate(rows):
            total = -float(first_logprobs[ids[prompt]])  # token p, predicted by the prompt's last position
            later = [t for t in positions if t > prompt]
            if later:
                at = torch.tensor([t - prompt - 1 for t in later], device=device)
                targets = torch.tensor([ids[t] for t in later], device=device)
                logprobs = torch.log_softmax(rest[row, at].float(), dim=-1)
                total -= float(logprobs.gather(1, targets[:, None]).double().sum())
            sums.append(total)
        return sums
