"""The cluster-count rule of cluster inertia and partition entropy: the paper's counts at the paper's sizes, the
paper's samples-per-cluster ratio on small pools (where the fixed counts make both metrics constant), the count used
reported in the value's details."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from selection_ops.data_model import PoolView
from selection_ops.metrics._kmeans import auto_cluster_count
from selection_ops.registry import measure, metric_details


def view(matrix: np.ndarray) -> PoolView:
    return PoolView(ids=[f"r{i}" for i in range(len(matrix))], embeddings=np.asarray(matrix, dtype=np.float32))


def clustered(n: int, dim: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(10, dim)) * 3
    return (centres[rng.integers(0, 10, n)] + rng.normal(size=(n, dim))).astype(np.float32)


@pytest.mark.parametrize(("paper", "samples", "per_cluster", "expected"), [
    (200, 10_000, 50, 200), (1000, 10_000, 10, 1000),  # NovelSum Appx. A.2 at its 10,000-sample subsets
    (200, 50_000, 50, 200), (1000, 396_000, 10, 1000),  # never more than the paper's count
    (200, 32, 50, 2), (1000, 32, 10, 3), (200, 1_000, 50, 20), (1000, 300, 10, 30),  # small pools keep the ratio
])
def test_rule(paper: int, samples: int, per_cluster: int, expected: int) -> None:
    assert auto_cluster_count(paper, samples, per_cluster) == expected


def test_rule_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="samples_per_cluster >= 1"):
        auto_cluster_count(200, 100, 0)


def test_small_pool_metrics_vary_where_the_fixed_counts_were_constant() -> None:
    """The embedded default's shape: a 300-sample pool, 32-sample subsets."""
    pool = clustered(300, 16, seed=1)
    rng = np.random.default_rng(2)
    subsets = [rng.choice(300, 32, replace=False) for _ in range(4)]
    fixed = {"cluster_inertia": {"clusters": 200}, "partition_entropy": {"clusters": 1000}}
    old = [measure(view(pool[rows]), view(pool), list(fixed), fixed) for rows in subsets]
    assert {v["cluster_inertia"] for v in old} == {0.0}
    assert {round(v["partition_entropy"], 9) for v in old} == {round(np.log(32), 9)}
    new = [measure(view(pool[rows]), view(pool), ["cluster_inertia", "partition_entropy"]) for rows in subsets]
    assert len({v["cluster_inertia"] for v in new}) == 4 and min(v["cluster_inertia"] for v in new) > 0
    assert len({round(v["partition_entropy"], 9) for v in new}) > 1
    details = metric_details(new[0])
    assert details["cluster_inertia"]["clusters"] == 2 and details["partition_entropy"]["clusters"] == 3
    assert "n = 32" in details["partition_entropy"]["clusters_rule"]
    json.dumps(details)  # goes into run metadata as is


def test_paper_size_subset_uses_the_paper_counts() -> None:
    pool = clustered(12_000, 3, seed=3)
    subset = pool[np.random.default_rng(4).choice(12_000, 10_000, replace=False)]
    values = measure(view(subset), view(pool), ["cluster_inertia", "partition_entropy"])
    details = metric_details(values)
    assert details["cluster_inertia"]["clusters"] == 200
    assert details["partition_entropy"]["clusters"] == 1000
    assert values["partition_entropy"] > np.log(200)  # 10,000 samples over 1,000 pool clusters: well spread


def test_given_count_is_used_as_is() -> None:
    pool = clustered(300, 8, seed=5)
    values = measure(view(pool[:40]), view(pool), ["cluster_inertia", "partition_entropy"],
                     {"cluster_inertia": {"clusters": 7}, "partition_entropy": {"clusters": 50}})
    details = metric_details(values)
    assert details["cluster_inertia"] == {"clusters": 7, "clusters_requested": 7, "clusters_rule": "given"}
    assert details["partition_entropy"]["clusters"] == 50
    assert float(values["cluster_inertia"]) == values["cluster_inertia"]  # still a float everywhere
    again = pickle.loads(pickle.dumps(values["cluster_inertia"]))  # as Dagster's IO manager stores it
    assert again == values["cluster_inertia"] and again.details == details["cluster_inertia"]
