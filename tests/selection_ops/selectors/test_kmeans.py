"""K-means selection: even split across well-separated clusters, quota redistribution, seeding."""

from collections import Counter

import numpy as np
import pytest

from selection_ops.registry import run_selector
from selection_ops.selectors.kmeans_sample import cluster_quotas


@pytest.fixture
def blobs(make_pool):
    """Three tight blobs of 20 points around orthogonal directions in 3-D."""
    rng = np.random.default_rng(0)
    centers = np.eye(3) * 10
    return make_pool(np.concatenate([c + rng.standard_normal((20, 3)) * 0.1 for c in centers]))


@pytest.mark.parametrize("budget, counts", [(9, [3, 3, 3]), (10, [3, 3, 4]), (60, [20, 20, 20])])
def test_even_split_over_blobs(blobs, budget, counts):
    result = run_selector("kmeans", blobs, budget, seed=1, params={"clusters": 3})
    per_blob = Counter(index // 20 for index in result.indices.tolist())
    assert sorted(per_blob.values()) == counts


def test_quotas_respect_small_clusters():
    rng = np.random.default_rng(0)
    quotas = cluster_quotas(np.array([1, 10, 10]), 9, rng)
    assert quotas.tolist() == [1, 4, 4]
    quotas = cluster_quotas(np.array([2, 3, 50, 7]), 40, rng)
    assert quotas.sum() == 40 and (quotas <= [2, 3, 50, 7]).all() and quotas.tolist()[:2] == [2, 3]


def test_quota_remainder_goes_to_random_clusters():
    sizes = np.full(10, 100)
    spreads = {tuple(cluster_quotas(sizes, 15, np.random.default_rng(seed))) for seed in range(5)}
    assert all(sorted(s) == [1] * 5 + [2] * 5 for s in spreads) and len(spreads) > 1


def test_seeded(random_pool):
    pool = random_pool(500, 8)
    first = run_selector("kmeans", pool, 50, seed=3, params={"clusters": 10}).ids
    assert run_selector("kmeans", pool, 50, seed=3, params={"clusters": 10}).ids == first
    assert run_selector("kmeans", pool, 50, seed=4, params={"clusters": 10}).ids != first


def test_too_many_clusters_is_an_error(random_pool):
    with pytest.raises(ValueError, match="clusters"):
        run_selector("kmeans", random_pool(50, 4), 5, params={"clusters": 100})
