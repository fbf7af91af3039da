"""K-Center-Greedy: farthest-point order on a hand-made circle, seeding, incremental == recompute."""

import numpy as np
import pytest

from selection_ops.data_model import MissingFieldError
from selection_ops.registry import run_selector
from selection_ops.selectors.kcenter import kcenter_greedy, kcenter_greedy_torch, kcenter_recompute


def test_farthest_point_order_by_hand(circle):
    # from 0 deg: 180 deg is farthest (distance 2); then 90 deg (min distance 1 to {0, 180}) beats 10 and 170 deg
    # (min 1 - cos 10 = 0.015); then 10 deg and 170 deg tie, the lower row wins
    unit = circle([0, 10, 90, 170, 180])
    np.testing.assert_array_equal(kcenter_greedy(unit, 5, first=0), [0, 4, 2, 1, 3])


def test_seeded_first_point(random_pool):
    pool = random_pool(300, 8)
    picks = {seed: run_selector("kcenter", pool, 20, seed=seed).ids for seed in range(4)}
    assert run_selector("kcenter", pool, 20, seed=0).ids == picks[0]
    assert len({tuple(p) for p in picks.values()}) > 1
    assert all(len(set(p)) == 20 for p in picks.values())


def test_incremental_equals_recompute(random_pool):
    pool = random_pool(2000, 24, seed=2)
    unit = pool.embeddings / np.linalg.norm(pool.embeddings, axis=1, keepdims=True)
    np.testing.assert_array_equal(kcenter_greedy(unit, 150, 7), kcenter_recompute(unit, 150, 7))


def test_torch_path_equals_numpy(random_pool):
    pool = random_pool(1500, 16, seed=4)
    unit = pool.embeddings / np.linalg.norm(pool.embeddings, axis=1, keepdims=True)
    np.testing.assert_array_equal(kcenter_greedy_torch(unit, 100, 3, device="cpu"), kcenter_greedy(unit, 100, 3))


def test_missing_embeddings_named(make_pool):
    with pytest.raises(MissingFieldError, match="kcenter needs embeddings"):
        run_selector("kcenter", make_pool(None, score=[1.0, 2.0]), 1)


@pytest.mark.gpu
def test_cuda_path_equals_numpy(random_pool):
    pool = random_pool(5000, 64, seed=5)
    unit = pool.embeddings / np.linalg.norm(pool.embeddings, axis=1, keepdims=True)
    np.testing.assert_array_equal(kcenter_greedy_torch(unit, 300, 3, device="cuda"), kcenter_greedy(unit, 300, 3))
