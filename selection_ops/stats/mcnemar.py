"""McNemar's exact test: two runs' 0/1 answers to the same questions.

Only the discordant questions carry information: ``a_only`` answered right by run a alone, ``b_only`` by run b
alone. Under "no difference" each discordant question is a fair coin, so the two-sided exact p-value is
p = min(1, 2 sum_{k <= m} C(n, k) / 2^n) with n = a_only + b_only and m = min(a_only, b_only) (McNemar 1947, Note
on the sampling error of the difference between correlated proportions; the exact binomial form: Fagerland,
Lydersen & Laake 2013, The McNemar test for binary matched-pairs data). Equal to ``scipy.stats.binomtest(m, n,
0.5).pvalue``.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import binom


def mcnemar_exact_counts(a_only: int, b_only: int) -> float:
    """The exact two-sided p-value from the discordant counts; 1.0 when there is no discordant question."""
    if a_only < 0 or b_only < 0:
        raise ValueError(f"discordant counts must be >= 0, got {a_only} and {b_only}")
    discordant = a_only + b_only
    if discordant == 0:
        return 1.0
    return float(min(1.0, 2.0 * binom.cdf(min(a_only, b_only), discordant, 0.5)))


def discordant_counts(a: np.ndarray, b: np.ndarray) -> tuple[int, int]:
    """(a right and b wrong, b right and a wrong) over questions both answered: a, b (n,) of 0/1."""
    a = np.asarray(a)
    b = np.asarray(b)
    if a.shape != b.shape:
        raise ValueError(f"paired answers must have one shape, got {a.shape} and {b.shape}")
    return int(np.count_nonzero((a == 1) & (b == 0))), int(np.count_nonzero((a == 0) & (b == 1)))


def mcnemar_exact(a: np.ndarray, b: np.ndarray) -> float:
    """The exact McNemar p-value of two runs' 0/1 answers (n,) to the same questions."""
    return mcnemar_exact_counts(*discordant_counts(a, b))
