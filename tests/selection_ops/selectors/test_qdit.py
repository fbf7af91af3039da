"""QDIT: hand-checked facility-location picks, alpha extremes, lazy == plain greedy, knn kernel, recorded choice."""

import numpy as np
import pytest

from selection_ops.data_model import MissingFieldError, PoolView
from selection_ops.registry import run_selector
from selection_ops.selectors.qdit import (
    DenseCoverage,
    TorchDenseCoverage,
    lazy_greedy,
    normalized_quality,
    qdit_plain_greedy,
)


def test_diversity_only_by_hand(make_pool, circle):
    # rows 0-2 at 0 deg, row 3 at 90 deg, row 4 at 45 deg. Clamped similarity sums: 45 deg: 4 cos45 + 1 = 3.83 beats
    # 0 deg: 3 + cos45 = 3.71. Then covered = (.71, .71, .71, .71, 1): 0 deg gains 3 (1 - .71) = .88 (row 0, the
    # lowest), 90 deg gains .29. Then only 90 deg gains anything.
    pool = make_pool(circle([0, 0, 0, 90, 45]), score=[0, 0, 0, 0, 0])
    assert run_selector("qdit", pool, 3, params={"alpha": 0.0}).indices.tolist() == [4, 0, 3]


def test_quality_only_is_the_score_order(random_pool):
    pool = random_pool(300, 8)
    result = run_selector("qdit", pool, 25, params={"alpha": 1.0})
    np.testing.assert_array_equal(result.indices, np.argsort(-pool.score)[:25])


def test_quality_breaks_the_tie_between_duplicates(make_pool, circle):
    pool = make_pool(circle([0, 0, 180]), score=[0.0, 1.0, 0.5])
    assert run_selector("qdit", pool, 1, params={"alpha": 0.5}).indices.tolist() == [1]


@pytest.mark.parametrize("alpha", [0.0, 0.3, 0.7, 0.9])
def test_lazy_equals_plain_greedy(random_pool, alpha):
    pool = random_pool(1200, 16, seed=5)
    unit = pool.embeddings / np.linalg.norm(pool.embeddings, axis=1, keepdims=True)
    expected = qdit_plain_greedy(unit, normalized_quality(pool.score), alpha, 80)
    np.testing.assert_array_equal(run_selector("qdit", pool, 80, params={"alpha": alpha}).indices, expected)


def test_literal_sum_scale(random_pool):
    pool = random_pool(600, 8, seed=8)
    unit = pool.embeddings / np.linalg.norm(pool.embeddings, axis=1, keepdims=True)
    quality = normalized_quality(pool.score)
    summed = run_selector("qdit", pool, 30, params={"alpha": 0.7, "diversity_scale": "sum"}).indices
    np.testing.assert_array_equal(summed, qdit_plain_greedy(unit, quality, 0.7, 30, mean=False))


def test_torch_dense_kernel_equals_numpy(random_pool):
    pool = random_pool(900, 16, seed=9)
    unit = np.ascontiguousarray(pool.embeddings / np.linalg.norm(pool.embeddings, axis=1, keepdims=True))
    quality = normalized_quality(pool.score)
    picks = []
    for coverage in (DenseCoverage(unit), TorchDenseCoverage(unit, device="cpu")):
        picks.append(lazy_greedy(coverage.initial_gains(), coverage.gains, coverage.add, quality, 0.5, 60))
    np.testing.assert_array_equal(picks[1], picks[0])


def test_knn_kernel_with_all_neighbours_is_the_dense_kernel(random_pool):
    pool = random_pool(400, 8, seed=6)
    dense = run_selector("qdit", pool, 40, params={"kernel": "dense", "alpha": 0.5})
    full_knn = run_selector("qdit", pool, 40, params={"kernel": "knn", "neighbors": 400, "alpha": 0.5})
    np.testing.assert_array_equal(full_knn.indices, dense.indices)


def test_auto_kernel_is_recorded(random_pool):
    pool = random_pool(300, 8)
    assert run_selector("qdit", pool, 10).params["kernel"] == "dense"
    small = run_selector("qdit", pool, 10, params={"knn_above": 100, "neighbors": 20})
    assert small.params["kernel"] == "knn" and len(set(small.ids)) == 10


def test_normalized_quality():
    np.testing.assert_allclose(normalized_quality(np.array([2.0, 4.0, 3.0])), [0.0, 1.0, 0.5])
    np.testing.assert_array_equal(normalized_quality(np.array([7.0, 7.0])), [0.0, 0.0])


def test_missing_fields_named(make_pool):
    with pytest.raises(MissingFieldError, match="qdit needs embeddings and a quality score"):
        run_selector("qdit", PoolView(ids=["a", "b"]), 1)
    with pytest.raises(MissingFieldError, match="qdit needs a quality score"):
        run_selector("qdit", make_pool(np.eye(3)), 1)


@pytest.mark.gpu
def test_cuda_dense_kernel_equals_numpy(random_pool):
    pool = random_pool(4000, 64, seed=10)
    unit = np.ascontiguousarray(pool.embeddings / np.linalg.norm(pool.embeddings, axis=1, keepdims=True))
    quality = normalized_quality(pool.score)
    picks = []
    for coverage in (DenseCoverage(unit), TorchDenseCoverage(unit, device="cuda")):
        picks.append(lazy_greedy(coverage.initial_gains(), coverage.gains, coverage.add, quality, 0.7, 200))
    np.testing.assert_array_equal(picks[1], picks[0])
