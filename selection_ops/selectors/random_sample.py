"""Random baseline: a seeded sample without replacement."""

import numpy as np

from selection_ops.data_model import PoolView
from selection_ops.registry import NoParams, register_selector


@register_selector("random")
def select_random(pool: PoolView, budget: int, seed: int, params: NoParams) -> np.ndarray:
    """Uniform sample of ``budget`` rows without replacement (numpy PCG64 seeded by ``seed``)."""
    return np.random.default_rng(seed).choice(len(pool), size=budget, replace=False)
