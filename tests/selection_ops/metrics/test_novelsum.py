"""NovelSum: a hand-derived 3-point value, the official computation restated naively, and the paper's orderings."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cluster import KMeans

from selection_ops.data_model import PoolView
from selection_ops.metrics.novelsum import proximity_weighted_means, rank_weights
from selection_ops.registry import measure


def view(embeddings: np.ndarray) -> PoolView:
    return PoolView(ids=[f"r{i}" for i in range(len(embeddings))], embeddings=np.asarray(embeddings, np.float32))


def official_novelsum(subset: np.ndarray, pool: np.ndarray, k: int, beta: float, p: float,
                      normalized_density: bool = False) -> float:
    """The official novelsum.py + utils.FaissIndex steps in plain numpy: the density on the *raw* vectors (squared
    L2 to a deduplicated reference, K + 1 nearest with the first (self) dropped, (mean + 1e-9)^-beta), the full
    cosine-distance matrix, each row scaled by its density, argsort, np.average with weights 1/r^p, mean of rows."""
    subset, pool = subset.astype(np.float64), pool.astype(np.float64)
    unit = subset / np.linalg.norm(subset, axis=1, keepdims=True)
    queries, reference = subset, pool
    if normalized_density:
        queries, reference = unit, pool / np.linalg.norm(pool, axis=1, keepdims=True)
    reference = np.unique(reference, axis=0)
    sq = ((queries[:, None, :] - reference[None, :, :]) ** 2).sum(axis=2)
    density = 1.0 / np.power(np.sort(sq, axis=1)[:, 1:k + 1].mean(axis=1) + 1e-9, beta)
    weighted = (1.0 - unit @ unit.T) * density[:, None]
    weights = 1.0 / np.power(np.arange(1, len(unit) + 1), p)
    return float(np.mean([np.average(row[np.argsort(row)], weights=weights) for row in weighted]))


def raw_pool(seed: int, n: int = 400, dim: int = 12) -> np.ndarray:
    """Clustered rows with norms spread over [0.3, 5] (as raw LLM embeddings have), a few rows repeated: the raw
    and the normalised densities rank the rows differently here."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(8, dim)) * 2
    pool = centres[rng.integers(0, 8, n)] + rng.normal(size=(n, dim))
    pool *= rng.uniform(0.3, 5.0, size=(n, 1))
    pool[-5:] = pool[:5]  # duplicates: the reference is deduplicated before the search
    return pool.astype(np.float32)


def test_three_point_hand_value() -> None:
    # e1, e2, -e1: cosine distance rows [0,1,2], [1,0,1], [2,1,0]; weights (1, 1/2, 1/3) / (11/6)
    # -> row novelties 7/11, 5/11, 7/11; K = 1 nearest other point is at squared distance 2 for all -> sigma = 2^-0.5
    points = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    got = measure(view(points), view(points), ["novelsum"], {"novelsum": {"k": 1}})["novelsum"]
    assert got == pytest.approx(19 / 33 / np.sqrt(2), rel=1e-6)
    no_density = measure(view(points), view(points), ["novelsum"],
                         {"novelsum": {"k": 1, "beta": 0}})["novelsum"]
    assert no_density == pytest.approx(19 / 33, rel=1e-6)


def test_default_is_the_official_value_on_raw_embeddings() -> None:
    pool = raw_pool(3)
    rng = np.random.default_rng(3)
    subset_rows = np.concatenate([rng.choice(400, 60, replace=False), [5, 5, 7, 398]])  # repeats included
    subset = pool[subset_rows]
    expected = official_novelsum(subset, pool, k=10, beta=0.5, p=1.0)
    got = measure(view(subset), view(pool), ["novelsum"])["novelsum"]
    assert got == pytest.approx(expected, rel=1e-5)
    expected_p2 = official_novelsum(subset, pool, k=5, beta=0.25, p=2.0)
    got_p2 = measure(view(subset), view(pool), ["novelsum"], {"novelsum": {"k": 5, "beta": 0.25, "p": 2}})["novelsum"]
    assert got_p2 == pytest.approx(expected_p2, rel=1e-5)


def test_normalized_density_is_a_named_option_and_differs() -> None:
    pool = raw_pool(8)
    subset = pool[np.random.default_rng(8).choice(400, 50, replace=False)]
    official = measure(view(subset), view(pool), ["novelsum"])["novelsum"]
    normalized = measure(view(subset), view(pool), ["novelsum"],
                         {"novelsum": {"normalized_density": "true"}})["novelsum"]
    assert normalized == pytest.approx(official_novelsum(subset, pool, 10, 0.5, 1.0, normalized_density=True),
                                       rel=1e-5)
    assert abs(normalized - official) > 0.05 * abs(official)  # the two densities really differ on raw vectors


def test_blocked_rows_equal_single_block(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(4)
    unit = rng.normal(size=(50, 6)).astype(np.float32)
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    whole = proximity_weighted_means(unit, rank_weights(50, 1.0))
    monkeypatch.setattr("selection_ops.metrics.novelsum._ROW_BLOCK", 7)
    np.testing.assert_allclose(proximity_weighted_means(unit, rank_weights(50, 1.0)), whole, rtol=1e-6)


def k_center_greedy(points: np.ndarray, budget: int) -> list[int]:
    unit = points / np.linalg.norm(points, axis=1, keepdims=True)
    chosen = [0]
    nearest = 1.0 - unit @ unit[0]
    for _ in range(budget - 1):
        nearest[chosen] = -np.inf
        chosen.append(int(nearest.argmax()))
        nearest = np.minimum(nearest, 1.0 - unit @ unit[chosen[-1]])
    return chosen


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_simulation_orderings_section4(seed: int) -> None:
    """Sec. 4: redundant (A) < spread by K-Center-Greedy (B) < spread and density-aware (C); Duplicate < Random."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(6, 16)) * 3
    pool = (centres[rng.integers(0, 6, 150)] + rng.normal(size=(150, 16))).astype(np.float32)
    labels_near_0 = np.argsort(((pool - pool[0]) ** 2).sum(1))[:10]
    labels_near_1 = np.argsort(((pool - pool[75]) ** 2).sum(1))[:10]
    redundant = np.concatenate([labels_near_0, labels_near_1])  # A: two tight groups
    spread = np.asarray(k_center_greedy(pool, 20))  # B
    unit = pool / np.linalg.norm(pool, axis=1, keepdims=True)
    centroids = KMeans(20, random_state=0, n_init=3).fit(unit).cluster_centers_
    density_aware = np.array([np.argmin(((unit - c) ** 2).sum(1)) for c in centroids])  # C: one per dense region
    random = rng.choice(150, 20, replace=False)
    duplicate = np.repeat(random[:4], 5)
    score = {name: measure(view(pool[rows]), view(pool), ["novelsum"])["novelsum"]
             for name, rows in [("A", redundant), ("B", spread), ("C", density_aware),
                                         ("random", random), ("duplicate", duplicate)]}
    assert score["A"] < score["B"] < score["C"]
    assert score["duplicate"] < score["random"]


def test_permutation_invariant_and_deterministic() -> None:
    rng = np.random.default_rng(5)
    pool = rng.normal(size=(200, 8)).astype(np.float32)
    rows = rng.choice(200, 40, replace=False)
    first = measure(view(pool[rows]), view(pool), ["novelsum"])["novelsum"]
    again = measure(view(pool[rows]), view(pool), ["novelsum"])["novelsum"]
    shuffled = measure(view(pool[rng.permutation(rows)]), view(pool), ["novelsum"])["novelsum"]
    assert first == again
    assert shuffled == pytest.approx(first, rel=1e-6)


def test_needs_pool_embeddings() -> None:
    points = np.eye(3)
    with pytest.raises(ValueError, match="reference pool"):
        measure(view(points), PoolView(ids=["a", "b", "c"]), ["novelsum"])
    with pytest.raises(ValueError, match="needs the reference pool"):
        measure(view(points), None, ["novelsum"])


@pytest.mark.gpu
def test_torch_cuda_rows_match_cpu_rows() -> None:
    import torch

    from selection_ops.metrics.novelsum import _proximity_weighted_means_torch

    rng = np.random.default_rng(6)
    unit = rng.normal(size=(3000, 64)).astype(np.float32)
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    weights = rank_weights(3000, 1.0)
    expected = np.array([np.sort(1.0 - unit[i] @ unit.T) @ weights for i in range(0, 3000, 97)])
    got = _proximity_weighted_means_torch(unit, weights, torch.device("cuda"))[::97]
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)


def test_density_memo_searches_each_row_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import selection_ops.metrics.novelsum as novelsum_module
    from selection_ops.neighbors import knn_density

    rng = np.random.default_rng(7)
    pool = rng.normal(size=(300, 8)).astype(np.float32)
    searched: list[int] = []

    def counting_density(rows, reference, **kwargs):
        searched.append(len(rows))
        return knn_density(rows, reference, **kwargs)

    monkeypatch.setattr(novelsum_module, "knn_density", counting_density)
    first = novelsum_module.memoised_density(pool[:50], pool, k=5, beta=0.5)
    second = novelsum_module.memoised_density(pool[[10, 60, 10, 70, 20]], pool, k=5, beta=0.5)
    assert searched == [50, 2]  # only rows 60 and 70 are new; the repeated row 10 is looked up
    np.testing.assert_allclose(first, knn_density(pool[:50], pool, k=5, beta=0.5), rtol=1e-6)
    np.testing.assert_allclose(second, knn_density(pool[[10, 60, 10, 70, 20]], pool, k=5, beta=0.5), rtol=1e-6)
    novelsum_module.memoised_density(pool[:5], pool, k=6, beta=0.5)  # other settings: searched afresh
    assert searched[-1] == 5
