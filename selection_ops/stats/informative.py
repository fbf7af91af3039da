"""Benchmarks that cannot rank runs: every run gets the same score (GSM8K 0 everywhere after a broken answer
extraction, AlpacaEval 50 everywhere against itself). Their z-scores are all 0 and their correlations undefined;
the report leaves them out of ``zsum`` and the correlations and says why, and an asset check can flag them."""

from __future__ import annotations

import numpy as np
import pandas as pd


def uninformative_benchmarks(table: pd.DataFrame) -> dict[str, str]:
    """benchmark key -> reason, for each ``bench.<key>`` score column of ``table`` (one row per run) that no run
    has a value for, or on which at least two runs have a value and all of them are equal."""
    reasons = {}
    for column in table.columns:
        if not (column.startswith("bench.") and column.count(".") == 1):
            continue
        values = pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=np.float64)
        finite = values[np.isfinite(values)]
        key = column.removeprefix("bench.")
        if finite.size == 0:
            reasons[key] = "no run has a score"
        elif finite.size >= 2 and np.ptp(finite) == 0:
            reasons[key] = f"every run scores {finite[0]:.6g} ({finite.size} runs): it cannot rank them"
    return reasons
