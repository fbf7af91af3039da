"""Repr Filter: accept only below the threshold (>= rejects), seeded random walk, fast == one-at-a-time walk."""

import numpy as np
import pytest

from selection_ops.data_model import MissingFieldError
from selection_ops.registry import run_selector
from selection_ops.similarity import threshold_filter, threshold_filter_reference


def test_equal_similarity_is_rejected(make_pool):
    # cos = 0 exactly; "below the threshold" means 0 < 0 fails, so only one of the two can be taken
    pool = make_pool(np.array([[1.0, 0.0], [0.0, 2.0]]))
    with pytest.raises(ValueError, match="threshold"):
        run_selector("repr_filter", pool, 2, params={"threshold": 0.0})
    assert len(run_selector("repr_filter", pool, 2, params={"threshold": 1e-6}).ids) == 2


def test_one_sample_per_tight_group(make_pool, circle):
    # three tight groups (within 2 degrees) far apart: at threshold 0.9 exactly one sample per group survives
    angles = [0, 1, 2, 120, 121, 122, 240, 241, 242]
    result = run_selector("repr_filter", make_pool(circle(angles)), 3, seed=5, params={"threshold": 0.9})
    assert sorted(index // 3 for index in result.indices) == [0, 1, 2]


def test_pairwise_similarity_below_threshold(random_pool):
    pool = random_pool(600, 16)
    result = run_selector("repr_filter", pool, 30, seed=1, params={"threshold": 0.4})
    unit = pool.embeddings / np.linalg.norm(pool.embeddings, axis=1, keepdims=True)
    similarity = unit[result.indices] @ unit[result.indices].T
    np.fill_diagonal(similarity, -1)
    assert similarity.max() < 0.4


def test_seeded(random_pool):
    pool = random_pool(600, 16)
    first = run_selector("repr_filter", pool, 40, seed=1, params={"threshold": 0.5}).ids
    assert run_selector("repr_filter", pool, 40, seed=1, params={"threshold": 0.5}).ids == first
    assert run_selector("repr_filter", pool, 40, seed=2, params={"threshold": 0.5}).ids != first


def test_blocked_walk_equals_one_at_a_time(random_pool):
    pool = random_pool(3000, 12, seed=4)
    unit = pool.embeddings / np.linalg.norm(pool.embeddings, axis=1, keepdims=True)
    order = np.random.default_rng(0).permutation(3000)
    fast = threshold_filter(unit, order, 300, 0.4, reject_equal=True, block=128)
    np.testing.assert_array_equal(fast, threshold_filter_reference(unit, order, 300, 0.4, reject_equal=True))


def test_missing_embeddings_named(make_pool):
    with pytest.raises(MissingFieldError, match="repr_filter needs embeddings"):
        run_selector("repr_filter", make_pool(None, score=[1.0, 2.0]), 1)
