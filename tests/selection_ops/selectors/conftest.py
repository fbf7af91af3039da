"""Fixtures shared by the selector tests: small pools built from arrays."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from selection_ops.data_model import PoolView


def _pool(embeddings: np.ndarray | None = None, score: np.ndarray | None = None, **extra: np.ndarray) -> PoolView:
    n = len(embeddings) if embeddings is not None else len(score)
    return PoolView(ids=[f"s{i}" for i in range(n)],
                    embeddings=None if embeddings is None else np.asarray(embeddings, dtype=np.float32),
                    score=None if score is None else np.asarray(score, dtype=np.float64),
                    extra={k: np.asarray(v, dtype=np.float64) for k, v in extra.items()})


@pytest.fixture
def make_pool() -> Callable[..., PoolView]:
    """make_pool(embeddings, score=None, **extra_columns) -> PoolView with ids s0..s{n-1}."""
    return _pool


@pytest.fixture
def circle() -> Callable[[list[float]], np.ndarray]:
    """circle([angles in degrees]) -> (n, 2) unit vectors, so cosines are cos(angle differences)."""
    def points(angles: list[float]) -> np.ndarray:
        radians = np.deg2rad(np.asarray(angles, dtype=np.float64))
        return np.stack([np.cos(radians), np.sin(radians)], axis=1).astype(np.float32)
    return points


@pytest.fixture
def random_pool() -> Callable[..., PoolView]:
    """random_pool(n, d, seed) -> PoolView with Gaussian embeddings and a uniform score."""
    def build(n: int = 400, d: int = 16, seed: int = 0) -> PoolView:
        rng = np.random.default_rng(seed)
        return _pool(rng.standard_normal((n, d)), rng.random(n))
    return build
