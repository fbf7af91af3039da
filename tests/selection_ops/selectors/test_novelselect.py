"""NovelSelect: the official loop's picks from the official first point, hand-checked steps, every backend == the
full recompute, seeding, errors."""

import numpy as np
import pytest

from selection_ops.data_model import MissingFieldError
from selection_ops.neighbors import knn_density
from selection_ops.registry import run_selector
from selection_ops.selectors.novelselect import novelselect_order, novelselect_recompute, official_first_point


def official_novelselect(embeddings: np.ndarray, k: int, seed: int, neighbors: int = 10, density_power: float = 0.5,
                         distance_power: float = 1.0, exclude_selected: bool = False) -> list[int]:
    """The official novelselect.py loop restated in plain numpy (float64, no batching, no fp16): set_seed, a random
    first point, FaissIndex.local_density on the raw embeddings (deduplicated, K + 1 nearest, first dropped), then
    per step M = (1 - cos) * (sigma_i + sigma_j), rank weights 1/r^p scattered by argsort, row mean, argmax
    (over every row, as the official code; ``exclude_selected`` applies infosift's one deviation)."""
    np.random.seed(seed)
    n = len(embeddings)
    raw = embeddings.astype(np.float64)
    unit = raw / np.linalg.norm(raw, axis=1, keepdims=True)
    reference = np.unique(raw, axis=0)
    sq = ((raw[:, None, :] - reference[None, :, :]) ** 2).sum(axis=2)
    density = 1.0 / np.power(np.sort(sq, axis=1)[:, 1:neighbors + 1].mean(axis=1) + 1e-9, density_power)
    centers = [np.random.randint(0, n)]
    for _ in range(1, k):
        weighted = (1.0 - unit @ unit[centers].T) * (density[:, None] + density[centers][None, :])
        ranks = np.empty_like(weighted)
        ranks[np.arange(n)[:, None], np.argsort(weighted, axis=1)] = 1.0 / np.power(
            np.arange(1, len(centers) + 1), distance_power)
        scores = (weighted * ranks).mean(axis=1)
        if exclude_selected:
            scores[centers] = -np.inf
        centers.append(int(np.argmax(scores)))
    return centers


def raw_embeddings(n: int, dim: int, seed: int, norms: tuple[float, float]) -> np.ndarray:
    """Clustered rows with norms spread over ``norms``, as raw LLM embeddings: raw and normalised densities differ."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(6, dim)) * 2
    rows = centres[rng.integers(0, 6, n)] + rng.normal(size=(n, dim))
    rows *= rng.uniform(*norms, size=(n, 1)) / np.linalg.norm(rows, axis=1, keepdims=True)
    return rows.astype(np.float32)


@pytest.mark.parametrize("seed", [0, 42])
def test_official_loop_picks_from_the_official_first_point(make_pool, seed):
    embeddings = raw_embeddings(300, 12, seed=seed + 1, norms=(0.5, 2.0))
    official = official_novelselect(embeddings, 40, seed)
    for backend in ("numba", "torch", "recompute"):  # default: the official script, repeats included
        got = run_selector("novelselect", make_pool(embeddings), 40, seed=seed,
                           params={"backend": backend}).indices.tolist()
        assert got == official
    # The paper's exclusion (opt-in): identical up to the official loop's first re-pick, the exclusion's loop after.
    first_repeat = next((step for step, row in enumerate(official) if row in official[:step]), len(official))
    got = run_selector("novelselect", make_pool(embeddings), 40, seed=seed,
                       params={"exclude_selected": "true"}).indices.tolist()
    assert first_repeat >= 5 and got[:first_repeat] == official[:first_repeat]
    assert got == official_novelselect(embeddings, 40, seed, exclude_selected=True)
    normalized = run_selector("novelselect", make_pool(embeddings), 40, seed=seed,
                              params={"normalized_density": "true", "exclude_selected": "true"}).indices.tolist()
    assert normalized[0] == official[0] and normalized != got  # the option changes the density, not the start


def test_on_unit_rows_the_exclusion_changes_nothing(make_pool):
    embeddings = raw_embeddings(1000, 32, seed=0, norms=(1.0, 1.0))
    official = official_novelselect(embeddings, 60, 7)
    assert len(set(official)) == len(official)  # no re-pick here, so the exclusion changes nothing
    assert run_selector("novelselect", make_pool(embeddings), 60, seed=7).indices.tolist() == official
    assert run_selector("novelselect", make_pool(embeddings), 60, seed=7,
                        params={"exclude_selected": "true"}).indices.tolist() == official


def test_official_repeats_are_counted_in_a_warning(make_pool, caplog):
    embeddings = raw_embeddings(300, 12, seed=1, norms=(0.5, 2.0))
    with caplog.at_level("WARNING", logger="selection_ops.selectors.novelselect"):
        picks = run_selector("novelselect", make_pool(embeddings), 40, seed=0).indices
    repeats = len(picks) - len(set(picks.tolist()))
    assert repeats > 0 and f"picked {repeats} of 40 rows again" in caplog.text


def test_first_point_is_numpy_legacy_seed_draw():
    saved = np.random.get_state()
    try:
        for seed, n in [(0, 10), (42, 1000), (7, 396_000), (2**32 - 1, 5)]:
            np.random.seed(seed)
            assert official_first_point(seed, n) == np.random.randint(0, n)
    finally:
        np.random.set_state(saved)
    state_before = np.random.get_state()[1].copy()
    official_first_point(3, 100)
    np.testing.assert_array_equal(np.random.get_state()[1], state_before)  # the global stream is untouched
    with pytest.raises(ValueError, match="seed must be in"):
        official_first_point(-1, 10)


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


def test_budget_larger_than_the_pool_is_refused(random_pool):
    with pytest.raises(ValueError, match="budget 11 is larger than the pool"):
        run_selector("novelselect", random_pool(10, 4), 11)
