"""Farthest: total cosine distance ranking, checked by hand and against brute force."""

import numpy as np
import pytest

from selection_ops.data_model import MissingFieldError
from selection_ops.registry import run_selector
from selection_ops.selectors.farthest import total_cosine_distance


def test_outlier_first_by_hand(make_pool, circle):
    # points at 0, 5, 10 and 180 deg. Totals of 1 - cos: 180 deg: (1+cos 0)+(1+cos 5)+(1+cos 10) = 5.98;
    # 0 deg: (1-cos 5)+(1-cos 10)+2 = 2.019; 5 deg: 2*(1-cos 5)+(1+cos 5) = 2.004; 10 deg: the same 2.004
    pool = make_pool(circle([0, 5, 10, 180]))
    assert run_selector("farthest", pool, 2).ids == ["s3", "s0"]


def test_totals_match_pairwise_sum(random_pool):
    pool = random_pool(200, 8)
    unit = pool.embeddings / np.linalg.norm(pool.embeddings, axis=1, keepdims=True)
    brute = (1.0 - unit.astype(np.float64) @ unit.T.astype(np.float64)).sum(axis=1)
    np.testing.assert_allclose(total_cosine_distance(unit), brute, rtol=1e-6)


def test_deterministic_and_unique(random_pool):
    pool = random_pool(200, 8)
    first = run_selector("farthest", pool, 30, seed=0).ids
    assert run_selector("farthest", pool, 30, seed=9).ids == first  # no randomness in the method
    assert len(set(first)) == 30


def test_missing_embeddings_named(make_pool):
    with pytest.raises(MissingFieldError, match="farthest needs embeddings"):
        run_selector("farthest", make_pool(None, score=[1.0, 2.0]), 1)
