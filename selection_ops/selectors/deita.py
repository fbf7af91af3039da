"""DEITA score-first diversity-aware selection (Liu et al., 2024; official hkust-nlp/deita ``Combined_Filter``).

Score per sample = sum over turns of complexity x quality (the annotation stage stores it as ``deita_score``; without
it the pool's ``score`` is used). Samples are sorted by score descending, ties kept in pool order (a stable sort; the
official code's pandas ``sort_values`` is not stable, so its tie order is arbitrary), then walked in that order:
a sample is accepted unless its cosine similarity to an already accepted sample is > tau (strictly greater, on
L2-normalised embeddings, as the official ``IterativeFilter`` with ``normalize_emb=True``), until the budget is met.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from selection_ops.data_model import MissingFieldError, PoolView
from selection_ops.registry import register_selector
from selection_ops.similarity import threshold_filter, unit_embeddings


@dataclass(frozen=True)
class DeitaParams:
    threshold: float = field(default=0.9, metadata={
        "help": "tau: reject a sample whose cosine similarity to an accepted one is > tau (DEITA default 0.9)"})


def deita_scores(pool: PoolView) -> np.ndarray:
    """(n,) float64: ``extra['deita_score']`` when present, else ``score``; MissingFieldError when neither is."""
    if pool.has("deita_score"):
        return pool.column("deita_score")
    if pool.has("score"):
        return pool.column("score")
    raise MissingFieldError("deita needs embeddings and a quality score (a 'deita_score' column or score); "
                            "the pool has neither score")


@register_selector("deita", DeitaParams, needs=("embeddings",))
def select_deita(pool: PoolView, budget: int, seed: int, params: DeitaParams) -> np.ndarray:
    """DEITA score-first: walk by score descending, skip samples with cosine similarity > tau to an accepted one."""
    order = np.argsort(-deita_scores(pool), kind="stable")
    picked = threshold_filter(unit_embeddings(pool), order, budget, params.threshold, reject_equal=False,
                              desc="deita filter")
    if len(picked) < budget:
        raise ValueError(f"deita: only {len(picked)} of {len(pool)} samples pass the similarity threshold "
                         f"{params.threshold} (budget {budget}); raise 'threshold' or lower the budget")
    return picked
