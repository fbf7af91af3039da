"""DistSum, KNN distance, Vendi, log-determinant, radius, cluster inertia, facility location, partition entropy:
values derived by hand on a few points, plus the behaviour the NovelSum paper relies on."""

from __future__ import annotations

import numpy as np
import pytest

from selection_ops.data_model import PoolView
from selection_ops.registry import measure

E1, E2, NEG_E1 = [1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]


def view(embeddings) -> PoolView:
    matrix = np.asarray(embeddings, dtype=np.float32)
    return PoolView(ids=[f"r{i}" for i in range(len(matrix))], embeddings=matrix)


def one(name: str, subset, pool=None, **params) -> float:
    pool_view = None if pool is None else view(pool)
    return measure(view(subset), pool_view, [name], {name: params})[name]


def test_distsum_cosine_three_points() -> None:
    # pairwise cosine distances: (e1, e2) = 1, (e1, -e1) = 2, (e2, -e1) = 1 -> mean over 6 ordered pairs = 8/6
    assert one("distsum_cosine", [E1, E2, NEG_E1]) == pytest.approx(4 / 3)
    # scale does not matter for cosine
    assert one("distsum_cosine", [[5.0, 0.0], [0.0, 0.1], [-2.0, 0.0]]) == pytest.approx(4 / 3)


def test_distsum_l2_three_points() -> None:
    points = [[0.0, 0.0], [3.0, 0.0], [0.0, 4.0]]  # a 3-4-5 triangle
    assert one("distsum_l2", points) == pytest.approx((9 + 16 + 25) * 2 / 6)  # squared (Appx. A.2)
    assert one("distsum_l2", points, squared=False) == pytest.approx((3 + 4 + 5) * 2 / 6)


def test_distsum_blocked_and_closed_forms_match_brute_force() -> None:
    rng = np.random.default_rng(0)
    points = rng.normal(size=(70, 5))
    diff = points[:, None] - points[None]
    sq = (diff**2).sum(-1)
    off = ~np.eye(70, dtype=bool)
    assert one("distsum_l2", points) == pytest.approx(sq[off].mean(), rel=1e-5)
    assert one("distsum_l2", points, squared=False) == pytest.approx(np.sqrt(sq[off]).mean(), rel=1e-5)
    unit = points / np.linalg.norm(points, axis=1, keepdims=True)
    assert one("distsum_cosine", points) == pytest.approx((1 - unit @ unit.T)[off].mean(), rel=1e-5)


def test_knn_distance_hand_values() -> None:
    # 1-D points 0, 1, 3: nearest-other distances 1, 1, 2
    assert one("knn_distance", [[0.0, 0.0], [1.0, 0.0], [3.0, 0.0]], distance="l2") == pytest.approx(4 / 3)
    # 2nd nearest: 3, 2, 3
    assert one("knn_distance", [[0.0, 0.0], [1.0, 0.0], [3.0, 0.0]], distance="l2", k=2) == pytest.approx(8 / 3)
    # cosine: e1, e2, -e1 -> every point's nearest other is at cosine distance 1
    assert one("knn_distance", [E1, E2, NEG_E1]) == pytest.approx(1.0, abs=1e-6)
    # a repeated sample has its copy at distance 0 (the paper's "nullifying" of redundant samples)
    assert one("knn_distance", [E1, E1, E2, E2]) == pytest.approx(0.0, abs=1e-6)


def test_vendi_anchors_and_hand_value() -> None:
    assert one("vendi", [E1] * 5) == pytest.approx(1.0, rel=1e-6)
    assert one("vendi", np.eye(7)) == pytest.approx(7.0, rel=1e-6)
    # K = [[1,1,0],[1,1,0],[0,0,1]] -> eigenvalues of K/3 are 2/3, 1/3 -> (sqrt(2/3) + sqrt(1/3))^2 = (3 + 2 sqrt 2)/3
    assert one("vendi", [E1, E1, E2]) == pytest.approx((3 + 2 * np.sqrt(2)) / 3, rel=1e-6)
    # order 1 is exp(Shannon entropy): exp(-(2/3 ln 2/3 + 1/3 ln 1/3))
    shannon = -(2 / 3 * np.log(2 / 3) + 1 / 3 * np.log(1 / 3))
    assert one("vendi", [E1, E1, E2], order=1.0) == pytest.approx(np.exp(shannon), rel=1e-6)


def test_vendi_uses_smaller_gram_side_consistently() -> None:
    rng = np.random.default_rng(1)
    tall = rng.normal(size=(40, 6))  # n > d: d x d Gram
    unit = tall / np.linalg.norm(tall, axis=1, keepdims=True)
    eig = np.clip(np.linalg.eigvalsh(unit @ unit.T / 40), 0, None)
    assert one("vendi", tall) == pytest.approx(np.sum(np.sqrt(eig)) ** 2, rel=1e-5)


def test_logdet_hand_values() -> None:
    assert one("logdet", np.eye(4), regularization=0.0) == pytest.approx(0.0, abs=1e-9)
    cos = 0.6  # two unit vectors at cosine 0.6: det = 1 - 0.36
    pair = [[1.0, 0.0], [cos, np.sqrt(1 - cos**2)]]
    assert one("logdet", pair, regularization=0.0) == pytest.approx(np.log(1 - cos**2) / 2, rel=1e-6)
    # duplicates: eigenvalues 2 and 0 -> (log(2 + eps) + log(eps)) / 2
    eps = 1e-6
    assert one("logdet", [E1, E1], regularization=eps) == pytest.approx((np.log(2 + eps) + np.log(eps)) / 2, rel=1e-6)
    # n > d: the missing zero eigenvalues count as log(eps)
    rng = np.random.default_rng(2)
    tall = rng.normal(size=(9, 3))
    unit = tall / np.linalg.norm(tall, axis=1, keepdims=True)
    expected = np.linalg.slogdet(unit @ unit.T + eps * np.eye(9))[1] / 9
    assert one("logdet", tall, regularization=eps) == pytest.approx(expected, rel=1e-4)


def test_radius_hand_value() -> None:
    # per-dimension population std: dim 0 -> 1, dim 1 -> 2; geometric mean sqrt(2)
    assert one("radius", [[0.0, 0.0], [2.0, 0.0], [0.0, 4.0], [2.0, 4.0]]) == pytest.approx(np.sqrt(2.0))
    assert one("radius", [[1.0, 2.0], [1.0, 5.0]]) == 0.0  # a dimension without spread


def test_cluster_inertia_hand_values() -> None:
    points = [[0.0, 0.0], [0.0, 2.0], [4.0, 0.0], [4.0, 2.0]]
    # one cluster: the centroid (2, 1), each point at squared distance 5
    assert one("cluster_inertia", points, clusters=1) == pytest.approx(20.0, rel=1e-5)
    # as many clusters as distinct rows (capped from 200): 0, also for a subset with repeated rows
    assert one("cluster_inertia", points, clusters=200) == pytest.approx(0.0, abs=1e-9)
    assert one("cluster_inertia", points * 3, clusters=4) == pytest.approx(0.0, abs=1e-9)


def test_cluster_inertia_two_separated_groups() -> None:
    rng = np.random.default_rng(3)
    groups = np.concatenate([rng.normal(size=(30, 3)) * 0.1, rng.normal(size=(30, 3)) * 0.1 + 50.0])
    expected = sum(((g - g.mean(0)) ** 2).sum() for g in (groups[:30], groups[30:]))
    for seed in range(3):
        assert one("cluster_inertia", groups, clusters=2, seed=seed) == pytest.approx(expected, rel=1e-3)


def test_facility_location_hand_value() -> None:
    diagonal = [np.sqrt(0.5), np.sqrt(0.5)]
    pool = [E1, E2, NEG_E1, diagonal]
    # each pool sample's max cosine similarity to {e1}: 1, 0, -1, 0.7071
    assert one("facility_location", [E1], pool) == pytest.approx(np.sqrt(0.5), rel=1e-5)
    # {e1, e2}: 1, 1, 0, 0.7071
    assert one("facility_location", [E1, E2], pool) == pytest.approx(2 + np.sqrt(0.5), rel=1e-5)


def test_partition_entropy_hand_value() -> None:
    pool = [[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]]
    # 4 clusters of a 4-point pool are the points themselves; shares 1/2, 1/4, 1/4
    got = one("partition_entropy", [[0.0, 0.0], [0.1, 0.0], [10.0, 0.2], [0.0, 9.0]], pool, clusters=4)
    assert got == pytest.approx(-(0.5 * np.log(0.5) + 2 * 0.25 * np.log(0.25)))
    # 1000 clusters are capped at the 4 distinct pool rows; an even spread reaches ln 4
    assert one("partition_entropy", pool, pool, clusters=1000) == pytest.approx(np.log(4))


METRICS = ["distsum_cosine", "distsum_l2", "knn_distance", "vendi", "logdet", "radius", "cluster_inertia",
           "facility_location", "partition_entropy", "novelsum"]


@pytest.fixture(scope="module")
def clustered_pool() -> np.ndarray:
    rng = np.random.default_rng(7)
    centres = rng.normal(size=(12, 24)) * 2
    return (centres[rng.integers(0, 12, 600)] + rng.normal(size=(600, 24))).astype(np.float32)


def test_duplicate_selection_scores_below_random(clustered_pool: np.ndarray) -> None:
    """Duplicate control (m unique samples repeated): less diverse than a random subset of the same size under
    every embedding metric except DistSum, which the paper (Finding 4) shows fails to see redundancy."""
    rng = np.random.default_rng(8)
    random_rows = rng.choice(600, 120, replace=False)
    duplicate_rows = np.repeat(random_rows[:6], 20)
    params = {"cluster_inertia": {"clusters": 20}, "partition_entropy": {"clusters": 50}}
    random_scores = measure(view(clustered_pool[random_rows]), view(clustered_pool), METRICS, params)
    duplicate_scores = measure(view(clustered_pool[duplicate_rows]), view(clustered_pool), METRICS, params)
    for name in set(METRICS) - {"distsum_cosine", "distsum_l2"}:
        assert duplicate_scores[name] < random_scores[name], name


def test_permutation_invariance_and_determinism(clustered_pool: np.ndarray) -> None:
    rng = np.random.default_rng(9)
    rows = rng.choice(600, 80, replace=False)
    params = {"cluster_inertia": {"clusters": 10}, "partition_entropy": {"clusters": 30}}
    first = measure(view(clustered_pool[rows]), view(clustered_pool), METRICS, params)
    again = measure(view(clustered_pool[rows]), view(clustered_pool), METRICS, params)
    shuffled = measure(view(clustered_pool[rng.permutation(rows)]), view(clustered_pool), METRICS, params)
    assert first == again
    for name in METRICS:
        if name == "cluster_inertia":  # k-means sees the rows in another order: another local optimum is allowed
            continue
        assert shuffled[name] == pytest.approx(first[name], rel=1e-4, abs=1e-6), name


def test_errors_name_the_problem() -> None:
    with pytest.raises(ValueError, match="at least 2 samples"):
        one("distsum_cosine", [E1])
    with pytest.raises(ValueError, match="record 'r1'.*all-zero"):
        one("vendi", [E1, [0.0, 0.0]])
    with pytest.raises(ValueError, match="needs embeddings"):
        measure(PoolView(ids=["a"]), None, ["radius"])


@pytest.mark.gpu
def test_vendi_on_cuda_matches_hand_value() -> None:
    # on a CUDA machine kernel_eigenvalues runs in torch; the hand-derived value must still hold
    assert one("vendi", [E1, E1, E2]) == pytest.approx((3 + 2 * np.sqrt(2)) / 3, rel=1e-6)
