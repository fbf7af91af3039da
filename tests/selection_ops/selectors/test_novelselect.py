"""NovelSelect: hand-checked steps, every backend == the official-style full recompute, seeding, errors."""

import numpy as np
import pytest

from selection_ops.data_model import MissingFieldError
from selection_ops.neighbors import knn_density
from selection_ops.registry import run_selector
from selection_ops.selectors.novelselect import novelselect_order, novelselect_recompute


@pytest.mark.parametrize("backend", ["numba", "torch", "recompute"])
def test_rank_weighting_by_hand(circle, backend):
    # density 1, M = 2 (1 - cos). From 0 deg: 180 deg is farthest (M = 4). Then with S = {0, 180}:
    # 90 deg: sorted (2, 2) -> (2 + 2/2) / 2 = 1.5;  135 deg: sorted (0.59, 3.41) -> (0.59 + 3.41/2) / 2 = 1.15.
    unit = circle([0, 135, 90, 180])
    order = novelselect_order(unit, np.ones(4, np.float32), 3, first=0, backend=backend)
    assert order.tolist() == [0, 3, 2]


@pytest.mark.parametrize("backend", ["numba", "torch", "recompute"])
def test_density_weighting_by_hand(circle, backend):
    # 90 and 270 deg are equally far from 0 deg; M = (1 - cos)(sigma_x + sigma_0) picks the denser one (row 2)
    unit = circle([0, 90, 270])
    order = novelselect_order(unit, np.array([1.0, 1.0, 3.0], np.float32), 2, first=0, backend=backend)
    assert order.tolist() == [0, 2]


@pytest.mark.parametrize("power", [1.0, 0.5])
def test_merge_equals_full_recompute(random_pool, power):
    pool = random_pool(1000, 32, seed=11)
    unit = pool.embeddings / np.linalg.norm(pool.embeddings, axis=1, keepdims=True)
    density = knn_density(unit).astype(np.float32)
    expected = novelselect_recompute(unit, density, 100, first=17, power=power)
    for backend in ("numba", "torch"):
        np.testing.assert_array_equal(novelselect_order(unit, density, 100, 17, power, backend=backend), expected)


def test_state_limit_falls_back_to_recompute(random_pool):
    pool = random_pool(300, 8)
    merged = run_selector("novelselect", pool, 30, seed=2).indices
    fallback = run_selector("novelselect", pool, 30, seed=2, params={"max_state_gb": 1e-9}).indices
    np.testing.assert_array_equal(fallback, merged)


def test_seeded(random_pool):
    pool = random_pool(400, 8)
    first = run_selector("novelselect", pool, 30, seed=1).ids
    assert run_selector("novelselect", pool, 30, seed=1).ids == first
    assert run_selector("novelselect", pool, 30, seed=2).ids != first
    assert len(set(first)) == 30


def test_missing_embeddings_named(make_pool):
    with pytest.raises(MissingFieldError, match="novelselect needs embeddings"):
        run_selector("novelselect", make_pool(None, score=[1.0, 2.0]), 1)


@pytest.mark.gpu
def test_gpu_merge_equals_cpu_merge(random_pool):
    pool = random_pool(5000, 64, seed=3)
    unit = pool.embeddings / np.linalg.norm(pool.embeddings, axis=1, keepdims=True)
    density = knn_density(unit).astype(np.float32)
    np.testing.assert_array_equal(novelselect_order(unit, density, 200, 0, backend="torch"),
                                  novelselect_order(unit, density, 200, 0, backend="numba"))
