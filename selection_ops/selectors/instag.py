"""#InsTag complexity-first diverse sampling (Lu et al., ICLR 2024, Sec. 4 / Algorithm 1; MIG Appx. A.1 baseline).

Complexity = number of distinct tags of a sample. Samples are sorted by it, descending, ties in pool order (a stable
sort). Then repeated passes down that order, each pass starting from an empty covered-tag set: a sample not yet
taken is taken when it has a tag not yet covered *in this pass*, and its tags join the pass's covered set. Passes
repeat until the budget is met. A pass that takes nothing means every remaining sample has no tag; those are then
appended in the sorted order (pool order), so the selection always terminates.
"""

from __future__ import annotations

import logging

import numpy as np
from tqdm.auto import tqdm

from selection_ops.data_model import PoolView
from selection_ops.registry import NoParams, register_selector

logger = logging.getLogger(__name__)


def tag_codes(labels: list[list[str]] | tuple) -> tuple[list[np.ndarray], int]:
    """Per sample, its distinct tags as int codes ((t_i,) int64), and the vocabulary size."""
    vocabulary: dict[str, int] = {}
    codes = [np.fromiter({vocabulary.setdefault(tag, len(vocabulary)) for tag in tags}, dtype=np.int64)
             for tags in labels]
    return codes, len(vocabulary)


@register_selector("instag", NoParams, needs=("labels",))
def select_instag(pool: PoolView, budget: int, seed: int, params: NoParams) -> np.ndarray:
    """#InsTag: most tags first, repeated passes taking samples that add a tag not yet covered in the pass."""
    codes, n_tags = tag_codes(pool.labels)
    counts = np.array([len(c) for c in codes])
    remaining = [int(i) for i in np.argsort(-counts, kind="stable") if counts[i] > 0]
    untagged = [int(i) for i in np.flatnonzero(counts == 0)]
    selected: list[int] = []
    progress = tqdm(total=budget, desc="instag", unit="sample", disable=budget < 20_000)
    passes = 0
    while len(selected) < budget and remaining:
        passes += 1
        covered = np.zeros(n_tags, dtype=bool)
        left_over = []
        for position, row in enumerate(remaining):
            if len(selected) == budget:
                left_over.extend(remaining[position:])
                break
            tags = codes[row]
            if covered[tags].all():
                left_over.append(row)
                continue
            covered[tags] = True
            selected.append(row)
            progress.update(1)
        remaining = left_over
    progress.close()
    if len(selected) < budget:
        logger.info("instag: tagged samples exhausted after %d passes; %d untagged samples appended",
                    passes, budget - len(selected))
        selected.extend(untagged[:budget - len(selected)])
    logger.info("instag: %d samples in %d passes", len(selected), passes)
    return np.asarray(selected, dtype=np.int64)
