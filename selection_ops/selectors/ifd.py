"""IFD (Cherry LLM, Li et al. 2024) and Superfiltering (Li et al. 2024a) selection from annotated scores.

The scores come from the annotation stage; this module only ranks them.

* ``variant="ifd"`` (tianyi-lab/Cherry_LLM ``data_by_IFD.py``): IFD = mean response loss given the instruction /
  mean response loss alone, column ``ifd``. Samples with IFD > threshold (1) are dropped (IFD = 1 is kept), the
  rest taken highest first. Ties: the official code sorts (IFD, row) ascending and takes the tail, so among equal
  IFD the *later* row comes first; kept here.
* ``variant="superfilter"`` (tianyi-lab/Superfiltering ``select_data.py``): the perplexity ratio
  ppl(A | Q) / ppl(A) from a small proxy model (GPT-2), column ``superfilter_ratio``. Only ratios strictly below the
  threshold (1) are kept, taken highest first; ties in pool order (Python's stable sort with reverse=True).

NaN scores (the official code's failed computations) are never eligible. When fewer eligible samples remain than
the budget, the selector raises an error saying how many remain, unless ``fill=True``: then the dropped samples
follow, those closest above the threshold first, NaN ones last in pool order.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from selection_ops.data_model import PoolView
from selection_ops.registry import register_selector

logger = logging.getLogger(__name__)

DEFAULT_COLUMN = {"ifd": "ifd", "superfilter": "superfilter_ratio"}


@dataclass(frozen=True)
class IFDParams:
    variant: Literal["ifd", "superfilter"] = field(default="ifd", metadata={
        "help": "ifd: Cherry LLM loss ratio, keep <= threshold; superfilter: perplexity ratio, keep < threshold"})
    column: str | None = field(default=None, metadata={
        "help": "score column (default: 'ifd' or 'superfilter_ratio' by variant)"})
    threshold: float = field(default=1.0, metadata={"help": "scores above it (ifd) / not below it (superfilter) drop"})
    fill: bool = field(default=False, metadata={
        "help": "when too few samples pass, fill the budget with dropped ones (closest to the threshold first)"})


@register_selector("ifd", IFDParams, opt_in=(
    "IFD is left out: it needs the IFD scorer's 'ifd' column (about 25 s per sample on a CPU); add "
    "`scorer: {extra_scorers: [ifd]}` to the grid's annotation section and list `ifd` under `selectors`"))
def select_ifd(pool: PoolView, budget: int, seed: int, params: IFDParams) -> np.ndarray:
    """IFD / Superfiltering: drop scores past the threshold (IFD > 1; ratio >= 1), take the highest."""
    column = params.column or DEFAULT_COLUMN[params.variant]
    pool.require(f"ifd ({params.variant})", column)
    score = pool.column(column)
    rows = np.arange(len(score))
    finite = np.isfinite(score)
    passes = finite & ((score <= params.threshold) if params.variant == "ifd" else (score < params.threshold))
    eligible = rows[passes]
    if params.variant == "ifd":  # (score, row) descending: later row first among ties, as Cherry_LLM's tail slice
        ranked = eligible[np.lexsort((-eligible, -score[eligible]))]
    else:  # score descending, pool order among ties
        ranked = eligible[np.argsort(-score[eligible], kind="stable")]
    if len(ranked) >= budget:
        return ranked[:budget]
    rule = "<=" if params.variant == "ifd" else "<"
    if not params.fill:
        raise ValueError(f"ifd ({params.variant}): only {len(ranked)} of {len(pool)} samples have {column} {rule} "
                         f"{params.threshold:g} (budget {budget}); lower the budget or pass fill=true")
    dropped = rows[finite & ~passes]
    dropped = dropped[np.argsort(score[dropped], kind="stable")]  # closest above the threshold first
    logger.warning("ifd (%s): %d samples pass, filling %d with dropped ones", params.variant, len(ranked),
                   budget - len(ranked))
    return np.concatenate([ranked, dropped, rows[~finite]])[:budget]
