"""CaR: top-n by quality plus each remaining cluster's best, n solved so the count meets the budget exactly."""

import math

import numpy as np
import pytest

from selection_ops.data_model import MissingFieldError
from selection_ops.registry import run_selector
from selection_ops.selectors.car import car_pick

# five samples, three clusters; quality order is row order. Cluster bests: row 0 (cluster 0), 2 (1), 4 (2).
LABELS = np.array([0, 0, 1, 1, 2])
QUALITY = np.array([5.0, 4.0, 3.0, 2.0, 1.0])


@pytest.mark.parametrize("budget, expected", [
    (3, [0, 2, 4]),  # n = 0 would give 3: the three cluster bests
    (4, [0, 1, 2, 4]),  # n = 2: rows 0, 1, plus bests of clusters 1 and 2
    (5, [0, 1, 2, 3, 4]),
    (2, [0, 2]),  # below the cluster count: the best representatives
])
def test_pick_by_hand(budget, expected):
    assert car_pick(QUALITY, LABELS, budget).tolist() == expected


def test_every_budget_is_met_exactly():
    rng = np.random.default_rng(0)
    labels, quality = rng.integers(0, 12, 300), rng.random(300)
    for budget in range(1, 301, 7):
        picked = car_pick(quality, labels, budget)
        assert len(picked) == budget == len(set(picked.tolist()))


def test_each_cluster_best_is_kept(make_pool):
    # N = 50 -> k = int(sqrt(25)) = 5 clusters; five far-apart blobs of 10 points each
    rng = np.random.default_rng(1)
    centers = np.eye(5) * 20
    embeddings = np.concatenate([c + rng.standard_normal((10, 5)) * 0.1 for c in centers])
    quality = rng.random(50)
    assert int(math.sqrt(50 / 2)) == 5
    result = run_selector("car", make_pool(embeddings, score=quality), 8)
    blob_bests = {blob * 10 + int(np.argmax(quality[blob * 10:(blob + 1) * 10])) for blob in range(5)}
    assert blob_bests <= set(result.indices.tolist()) and len(result.indices) == 8
    top_quality = np.argsort(-quality, kind="stable")
    assert result.indices[0] == top_quality[0]


def test_deterministic(random_pool):
    pool = random_pool(200, 8)
    assert run_selector("car", pool, 20, seed=0).ids == run_selector("car", pool, 20, seed=5).ids


def test_missing_fields_named(make_pool):
    with pytest.raises(MissingFieldError, match="car needs a quality score"):
        run_selector("car", make_pool(np.eye(4)), 2)


def test_missing_both_fields_named():
    from selection_ops.data_model import PoolView

    with pytest.raises(MissingFieldError, match="car needs embeddings and a quality score"):
        run_selector("car", PoolView(ids=["a", "b"]), 1)
