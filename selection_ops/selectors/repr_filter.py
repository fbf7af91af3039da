"""Repr Filter (Liu et al., 2023, as run in NovelSum Appx. A.3).

Samples are visited in a seeded random order; a sample joins the selection when its cosine similarity to every
sample already selected is below the threshold (rejected when the maximum similarity is >= threshold), until the
budget is met. NovelSum used 0.3 for LLaMA-3-8B embeddings and 0.1 for Qwen-2.5-7B; the right value depends on the
embedding model, so it is a parameter.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from selection_ops.data_model import PoolView
from selection_ops.registry import register_selector
from selection_ops.similarity import threshold_filter, unit_embeddings


@dataclass(frozen=True)
class ReprFilterParams:
    threshold: float = field(default=0.3, metadata={
        "help": "accept a sample only when its max cosine similarity to the selected ones is below this "
                "(NovelSum A.3: 0.3 for LLaMA-3-8B embeddings, 0.1 for Qwen-2.5-7B)"})


@register_selector("repr_filter", ReprFilterParams, needs=("embeddings",))
def select_repr_filter(pool: PoolView, budget: int, seed: int, params: ReprFilterParams) -> np.ndarray:
    """Repr Filter: seeded random walk, accept when max cosine similarity to the selected set < threshold."""
    order = np.random.default_rng(seed).permutation(len(pool))
    picked = threshold_filter(unit_embeddings(pool), order, budget, params.threshold, reject_equal=True,
                              desc="repr filter")
    if len(picked) < budget:
        raise ValueError(f"repr_filter: only {len(picked)} of {len(pool)} samples are below the similarity "
                         f"threshold {params.threshold} to each other (budget {budget}); raise 'threshold'")
    return picked
