"""Duplicate (NovelSum Appx. A.3): a deliberately low-diversity control.

``unique`` = m distinct samples are drawn uniformly at random without replacement (seeded; NovelSum does not say how
its m samples were chosen, and a uniform draw keeps their quality distribution that of the pool), then repeated to
exactly ``budget`` rows: the selection cycles through the m samples, so each appears budget // m times and the first
budget % m of them once more (NovelSum uses budgets divisible by m, where every sample appears budget / m times).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from selection_ops.data_model import PoolView
from selection_ops.registry import register_selector


@dataclass(frozen=True)
class DuplicateParams:
    unique: int = field(default=100, metadata={
        "help": "m: number of distinct samples, each repeated about budget/m times (NovelSum: 1 to 5000)"})


@register_selector("duplicate", DuplicateParams, allows_repeats=True)
def select_duplicate(pool: PoolView, budget: int, seed: int, params: DuplicateParams) -> np.ndarray:
    """Duplicate control: m seeded-random distinct samples cycled to exactly ``budget`` rows."""
    m = params.unique
    if not 1 <= m <= min(budget, len(pool)):
        raise ValueError(f"duplicate: 'unique' must be in [1, min(budget, pool size)] = [1, {min(budget, len(pool))}]"
                         f", got {m}")
    distinct = np.random.default_rng(seed).choice(len(pool), size=m, replace=False)
    return distinct[np.arange(budget) % m]
