"""ZIP (Yin et al. 2024; official USTC-StarTeam/ZIP ``ZIP.py``): greedy selection of a low compression-ratio set.

Compression ratio of a set of texts: CR = len(b) / len(zlib.compress(b, 9)), b the texts joined by "\\n" as UTF-8
(the official code compresses ``str(list_of_records)``; we compress the sample texts, so the ratio measures the
content and not the record syntax). A low ratio means little redundancy.

Each round (official ``ZIP_select``):

1. global view: the k1 samples with the lowest *global state* (initially each sample's own CR) are candidates;
2. each candidate's CR together with the whole selected set is computed and written back into the global state;
   the k2 lowest go on, and their state is set to 1e6 (official code: they are parked, and the k2 - k3 not chosen
   in stage 3 stay parked, only coming back when fewer than k1 unparked samples remain);
3. among those k2, k3 are picked greedily one at a time, each time the one whose CR with the stage-3 picks so far
   (not the selected set) is lowest.

The k3 picks of the round are appended. Rounds repeat until the budget is met, so the official output is a multiple
of k3 (rounded up); here it is trimmed to the budget. Selected samples never return as candidates (the official
code could pick them again once the pool is nearly exhausted). Ties go to the lower pool row in stages 1-2
and to the earlier stage-2 candidate in stage 3.

Speed: the CR of "selected set + candidate" is computed from a zlib compressor that has already consumed the
selected set (``compressobj.copy()``), so each candidate costs the compression of its own text only; deflate's
output does not depend on how its input was chunked, so the lengths equal ``zlib.compress`` of the joined bytes.
"""

from __future__ import annotations

import logging
import zlib
from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm

from selection_ops.data_model import PoolView
from selection_ops.registry import register_selector

logger = logging.getLogger(__name__)

PARKED = 1e6  # the official global-state value of samples taken to stage 3
_SEPARATOR = b"\n"


@dataclass(frozen=True)
class ZipParams:
    k1: int = field(default=10_000, metadata={"help": "stage 1: candidates with the lowest global state"})
    k2: int = field(default=200, metadata={"help": "stage 2: candidates kept by CR with the selected set"})
    k3: int = field(default=100, metadata={"help": "stage 3: samples picked per round, greedily among the k2"})


def compression_ratio(data: bytes) -> float:
    """len(data) / len(zlib.compress(data, 9))."""
    return len(data) / len(zlib.compress(data, 9))


class GrowingSet:
    """The compressed size of a growing concatenation, and of it plus one more text, without recompressing it."""

    def __init__(self) -> None:
        self._compressor = zlib.compressobj(9)
        self.raw_length = 0
        self.compressed_so_far = 0  # bytes the compressor has emitted; the rest sits in its window

    def add(self, text: bytes) -> None:
        piece = _SEPARATOR + text if self.raw_length else text
        self.compressed_so_far += len(self._compressor.compress(piece))
        self.raw_length += len(piece)

    def ratio_with(self, text: bytes) -> float:
        """CR of (the set + text), equal to compression_ratio(b"\\n".join(set + [text]))."""
        piece = _SEPARATOR + text if self.raw_length else text
        trial = self._compressor.copy()
        compressed = self.compressed_so_far + len(trial.compress(piece)) + len(trial.flush())
        return (self.raw_length + len(piece)) / compressed


@register_selector("zip", ZipParams, needs=("texts",))
def select_zip(pool: PoolView, budget: int, seed: int, params: ZipParams) -> np.ndarray:
    """ZIP: rounds of k1 -> k2 -> k3 greedy picks that keep the selected set's compression ratio low."""
    for name in ("k1", "k2", "k3"):
        if getattr(params, name) < 1:
            raise ValueError(f"zip: {name} must be >= 1, got {getattr(params, name)}")
    texts = [(text or "").encode("utf-8") for text in pool.texts]
    empty = [i for i, text in enumerate(texts) if not text]
    if empty:
        raise ValueError(f"zip: record {pool.ids[empty[0]]!r} has an empty text (and {len(empty) - 1} more)")
    state = np.array([compression_ratio(text) for text in texts], dtype=np.float64)
    taken = np.zeros(len(texts), dtype=bool)
    selected_set = GrowingSet()
    selected: list[int] = []
    progress = tqdm(total=budget, desc="zip", unit="sample", disable=budget < 2_000)
    while len(selected) < budget:
        open_rows = np.flatnonzero(~taken)
        order = np.argsort(state[open_rows], kind="stable")
        candidates = open_rows[order[:params.k1]]
        state[candidates] = [selected_set.ratio_with(texts[row]) for row in candidates]
        stage2 = candidates[np.argsort(state[candidates], kind="stable")[:params.k2]]
        state[stage2] = PARKED
        round_set = GrowingSet()
        waiting = list(stage2)
        for _ in range(min(params.k3, len(stage2))):
            ratios = [round_set.ratio_with(texts[row]) for row in waiting]
            row = waiting.pop(int(np.argmin(ratios)))
            round_set.add(texts[row])
            selected.append(row)
            taken[row] = True
            selected_set.add(texts[row])
            progress.update(1)
    progress.close()
    logger.info("zip: %d rounds of k3=%d, trimmed to %d", -(-len(selected) // params.k3), params.k3, budget)
    return np.asarray(selected[:budget], dtype=np.int64)
