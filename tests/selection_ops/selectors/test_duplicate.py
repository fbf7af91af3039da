"""Duplicate control: m distinct samples repeated to exactly the budget."""

from collections import Counter

import numpy as np
import pytest

from selection_ops.registry import run_selector


def test_counts_spread_remainder(random_pool):
    result = run_selector("duplicate", random_pool(50, 4), 10, seed=3, params={"unique": 3})
    assert len(result.indices) == 10
    assert sorted(Counter(result.indices.tolist()).values()) == [3, 3, 4]


def test_exact_repeats_when_divisible(random_pool):
    result = run_selector("duplicate", random_pool(50, 4), 12, params={"unique": 4})
    assert set(Counter(result.indices.tolist()).values()) == {3}


def test_budget_may_exceed_pool(random_pool):
    result = run_selector("duplicate", random_pool(5, 4), 20, params={"unique": 5})
    assert len(result.indices) == 20 and len(set(result.indices.tolist())) == 5


def test_seeded(random_pool):
    pool = random_pool(100, 4)
    first = run_selector("duplicate", pool, 20, seed=1, params={"unique": 5}).indices
    np.testing.assert_array_equal(run_selector("duplicate", pool, 20, seed=1, params={"unique": 5}).indices, first)
    assert set(run_selector("duplicate", pool, 20, seed=2, params={"unique": 5}).indices) != set(first)


def test_subset_keeps_the_repeats(random_pool):
    pool = random_pool(30, 4)
    result = run_selector("duplicate", pool, 6, params={"unique": 2})
    subset = pool.subset(result.indices)
    assert len(subset) == 6 and len(set(subset.ids)) == 6


def test_unique_larger_than_budget_is_an_error(random_pool):
    with pytest.raises(ValueError, match="unique"):
        run_selector("duplicate", random_pool(30, 4), 5, params={"unique": 10})
