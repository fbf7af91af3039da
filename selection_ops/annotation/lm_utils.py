"""Small helpers shared by the causal-LM scorers: right-padded batches and per-sequence losses."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

IGNORE = -100


def pad_right(sequences: Sequence[Sequence[int]], pad_id: int) -> tuple[Any, Any]:
    """(input_ids, attention_mask) as (batch, max_len) int64 tensors, right-padded.

    Right padding keeps every real token at its natural position, so no position ids need fixing and the
    causal mask makes padding invisible to real tokens.
    """
    import torch

    width = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for row, sequence in enumerate(sequences):
        ids[row, :len(sequence)] = torch.tensor(list(sequence), dtype=torch.long)
        mask[row, :len(sequence)] = 1
    return ids, mask


def last_token_logits(model: Any, sequences: Sequence[Sequence[int]], pad_id: int, device: str) -> Any:
    """(batch, vocab) float32 logits at each sequence's last real token: the next-token (first generated) logits."""
    import torch

    ids, mask = pad_right(sequences, pad_id)
    with torch.inference_mode():
        logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits  # (b, t, vocab)
    last = mask.sum(dim=1) - 1
    return logits[torch.arange(len(sequences)), last.to(logits.device)].float().cpu()


def mean_token_losses(model: Any, sequences: Sequence[Sequence[int]], labels: Sequence[Sequence[int]], pad_id: int,
                      device: str) -> list[float]:
    """Per sequence, the mean cross-entropy of the tokens whose label is not IGNORE (labels aligned with inputs,
    shifted inside: token t is predicted from tokens < t)."""
    import torch
    from torch.nn import functional

    ids, mask = pad_right(sequences, pad_id)
    target, _ = pad_right(labels, IGNORE)
    shifted_target = target[:, 1:].to(device)
    with torch.inference_mode():
        logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits  # (b, t, vocab)
        # float32 cross-entropy on the device; the (b, t, vocab) logits never leave it
        losses = functional.cross_entropy(logits[:, :-1].float().transpose(1, 2), shifted_target,
                                          ignore_index=IGNORE, reduction="none")  # (b, t - 1)
        sums = losses.sum(dim=1).cpu()
    counted = (shifted_target != IGNORE).sum(dim=1).cpu()
    return [float(sums[row] / counted[row]) if counted[row] > 0 else float("nan") for row in range(len(sequences))]
