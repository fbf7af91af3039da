"""Synthetic per-question tables for the stats tests."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest


def _question_table(scores: dict[str, np.ndarray], benchmark: str, *, clusters: np.ndarray | None = None,
                   seeds: dict[str, list[np.ndarray]] | None = None) -> pd.DataFrame:
    """Rows of the per-question table: ``scores`` run -> (n,) scores, or ``seeds`` run -> one (n,) array per
    seed (then a ``seed`` column); optional ``clusters`` (n,) labels."""
    frames = []
    for run, per_seed in (seeds or {run: [values] for run, values in scores.items()}).items():
        for seed, values in enumerate(per_seed):
            frame = pd.DataFrame({"run": run, "benchmark": benchmark,
                                  "question": [f"q{i}" for i in range(len(values))], "score": values})
            if seeds is not None:
                frame["seed"] = seed
            if clusters is not None:
                frame["cluster"] = [f"c{c}" for c in clusters]
            frames.append(frame)
    return pd.concat(frames, ignore_index=True)


@pytest.fixture
def question_table() -> Callable[..., pd.DataFrame]:
    """The builder above (a fixture: test modules here are not importable from one another)."""
    return _question_table
