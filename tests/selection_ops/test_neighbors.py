"""knn_search and knn_density against brute-force numpy, plus the official NovelSum density semantics."""

from __future__ import annotations

import numpy as np
import pytest

from selection_ops.neighbors import knn_density, knn_search, unique_rows


def brute_force_sq_l2(queries: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """(m, n) squared L2 distances in float64, the slow obvious way."""
    diff = queries[:, None, :].astype(np.float64) - reference[None, :, :].astype(np.float64)
    return (diff**2).sum(axis=2)


@pytest.fixture
def points() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.normal(size=(40, 8)).astype(np.float32), rng.normal(size=(300, 8)).astype(np.float32)


def test_knn_search_matches_brute_force(points: tuple[np.ndarray, np.ndarray]) -> None:
    queries, reference = points
    distances, indices = knn_search(queries, reference, 5)
    full = brute_force_sq_l2(queries, reference)
    expected_idx = np.argsort(full, axis=1, kind="stable")[:, :5]
    assert distances.dtype == np.float32 and indices.dtype == np.int64
    assert distances.shape == indices.shape == (40, 5)
    np.testing.assert_array_equal(indices, expected_idx)
    np.testing.assert_allclose(distances, np.take_along_axis(full, expected_idx, axis=1), rtol=1e-4, atol=1e-4)
    assert (np.diff(distances, axis=1) >= 0).all()


def test_knn_search_hand_example() -> None:
    reference = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 3.0]], dtype=np.float32)
    distances, indices = knn_search(np.array([[0.0, 1.0]], dtype=np.float32), reference, 3)
    np.testing.assert_array_equal(indices, [[0, 1, 2]])
    np.testing.assert_allclose(distances, [[1.0, 2.0, 4.0]], atol=1e-6)


def test_exclude_self_removes_own_row(points: tuple[np.ndarray, np.ndarray]) -> None:
    _, reference = points
    distances, indices = knn_search(reference, reference, 4, exclude_self=True)
    full = brute_force_sq_l2(reference, reference)
    np.fill_diagonal(full, np.inf)
    expected_idx = np.argsort(full, axis=1, kind="stable")[:, :4]
    assert not (indices == np.arange(len(reference))[:, None]).any()
    np.testing.assert_array_equal(indices, expected_idx)
    np.testing.assert_allclose(distances, np.take_along_axis(full, expected_idx, axis=1), rtol=1e-4, atol=1e-4)


def test_exclude_self_keeps_exact_duplicates_at_other_indices() -> None:
    reference = np.array([[0.0, 0.0], [0.0, 0.0], [5.0, 0.0]], dtype=np.float32)
    distances, indices = knn_search(reference, reference, 1, exclude_self=True)
    np.testing.assert_array_equal(indices[:, 0], [1, 0, 0])
    np.testing.assert_allclose(distances[:, 0], [0.0, 0.0, 25.0], atol=1e-6)


def test_ivf_recovers_exact_neighbours_on_clustered_data() -> None:
    rng = np.random.default_rng(1)
    centres = rng.normal(scale=10, size=(20, 16))
    reference = (centres[rng.integers(0, 20, 4000)] + rng.normal(size=(4000, 16))).astype(np.float32)
    queries = reference[:200] + 0.01
    exact_d, exact_i = knn_search(queries, reference, 10)
    approx_d, approx_i = knn_search(queries, reference, 10, index="ivf", nlist=20, nprobe=20)
    # probing every list makes IVF exhaustive: same neighbours as the flat index
    np.testing.assert_array_equal(approx_i, exact_i)
    np.testing.assert_allclose(approx_d, exact_d, rtol=1e-4, atol=1e-3)
    _, few_probe_i = knn_search(queries, reference, 10, index="ivf", nlist=20, nprobe=3)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(few_probe_i, exact_i)])
    assert recall > 0.9
    assert (few_probe_i >= 0).all()


def test_knn_search_rejects_bad_arguments(points: tuple[np.ndarray, np.ndarray]) -> None:
    queries, reference = points
    with pytest.raises(ValueError, match="k must be in"):
        knn_search(queries, reference, 301)
    with pytest.raises(ValueError, match="excluding self"):
        knn_search(reference, reference, 300, exclude_self=True)
    with pytest.raises(ValueError, match="same shape"):
        knn_search(queries, reference, 3, exclude_self=True)
    with pytest.raises(ValueError, match="dim"):
        knn_search(queries[:, :4], reference, 3)
    bad = queries.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="row 3"):
        knn_search(bad, reference, 3)


def official_density(embeddings: np.ndarray, reference: np.ndarray, k: int, beta: float) -> np.ndarray:
    """NovelSum's utils.FaissIndex.local_density restated in numpy: dedup reference, K+1 nearest, drop the first."""
    reference = np.unique(reference, axis=0)
    full = brute_force_sq_l2(embeddings, reference)
    nearest = np.sort(full, axis=1)[:, 1:k + 1]
    return 1.0 / np.power(nearest.mean(axis=1) + 1e-9, beta)


def test_knn_density_matches_official_semantics(points: tuple[np.ndarray, np.ndarray]) -> None:
    _, reference = points
    subset = reference[[5, 17, 17, 250]]  # repeated row, as a Duplicate selection has
    pool_with_copies = np.concatenate([reference, reference[:30]])  # pool duplicates are collapsed by the dedup
    got = knn_density(subset, pool_with_copies, k=10, beta=0.5)
    expected = official_density(subset, pool_with_copies, 10, 0.5)
    assert got.dtype == np.float64 and got.shape == (4,)
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    assert got[1] == got[2]


def test_knn_density_hand_example() -> None:
    # 1-D points 0, 1, 3, 7 (as 2-D rows); K = 2; the point itself is excluded.
    reference = np.array([[0.0, 0.0], [1.0, 0.0], [3.0, 0.0], [7.0, 0.0]], dtype=np.float32)
    density = knn_density(reference, k=2, beta=1.0)
    # point 0: neighbours 1 (d^2 = 1) and 3 (d^2 = 9) -> mean 5; point 1: 0 (1) and 3 (4) -> 2.5
    # point 3: 1 (4) and 0 (9) -> 6.5; point 7: 3 (16) and 1 (36) -> 26
    np.testing.assert_allclose(density, 1.0 / (np.array([5.0, 2.5, 6.5, 26.0]) + 1e-9), rtol=1e-6)
    np.testing.assert_allclose(knn_density(reference, k=2, beta=0.5), np.sqrt(density), rtol=1e-6)
    np.testing.assert_allclose(knn_density(reference, k=2, beta=0.0), 1.0)


def test_knn_density_reference_defaults_to_embeddings(points: tuple[np.ndarray, np.ndarray]) -> None:
    _, reference = points
    np.testing.assert_array_equal(knn_density(reference, k=5), knn_density(reference, reference, k=5))
    with pytest.raises(ValueError, match="distinct reference rows"):
        knn_density(reference[:5], k=5)


def test_unique_rows_keeps_first_occurrence_order() -> None:
    matrix = np.array([[2, 0], [1, 1], [2, 0], [0, 5], [1, 1]], dtype=np.float32)
    np.testing.assert_array_equal(unique_rows(matrix), [[2, 0], [1, 1], [0, 5]])
