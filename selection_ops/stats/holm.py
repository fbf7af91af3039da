"""Holm's step-down adjustment: the family-wise error rate of many comparisons held at alpha.

Sort the m p-values ascending, p_(1) <= ... <= p_(m); the adjusted p_(i) is max_{j <= i} min(1, (m - j + 1) p_(j))
(Holm 1979, A Simple Sequentially Rejective Multiple Test Procedure): monotone in the raw order, capped at 1.
Rejecting where the adjusted p < alpha is Holm's procedure. NaN p-values (no test possible) are not in the family:
they stay NaN and do not count in m.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def holm(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Holm-adjusted p-values in the input order: (m,) -> (m,) float64."""
    p = np.asarray(p_values, dtype=np.float64)
    if p.ndim != 1:
        raise ValueError(f"holm takes a 1-D family of p-values, got shape {p.shape}")
    if np.any((p < 0) | (p > 1)):
        raise ValueError(f"p-values must lie in [0, 1], got {p[(p < 0) | (p > 1)][:5]}")
    adjusted = np.full_like(p, np.nan)
    tested = np.flatnonzero(np.isfinite(p))
    m = tested.size
    if m == 0:
        return adjusted
    order = tested[np.argsort(p[tested], kind="stable")]
    stepped = np.minimum(1.0, (m - np.arange(m)) * p[order])
    adjusted[order] = np.maximum.accumulate(stepped)
    return adjusted
