"""#InsTag complexity-first diverse sampling on hand-traced pools."""

from __future__ import annotations

import numpy as np
import pytest

from selection_ops.data_model import MissingFieldError, PoolView
from selection_ops.registry import run_selector


def pool_of(labels: list[list[str]]) -> PoolView:
    return PoolView(ids=[f"s{i}" for i in range(len(labels))], labels=labels)


def test_hand_traced_passes() -> None:
    labels = [
        ["a"],            # s0: 1 tag
        ["a", "b", "c"],  # s1: 3 tags
        ["b", "c"],       # s2: 2 tags
        ["d", "a"],       # s3: 2 tags
        ["c", "c"],       # s4: 1 distinct tag (duplicates count once)
        ["e"],            # s5: 1 tag
    ]
    # order by tag count (stable): s1, s2, s3, s0, s4, s5
    # pass 1 (empty cover): s1 {a,b,c}; s2 adds nothing; s3 adds d; s0 no; s4 no; s5 adds e -> s1, s3, s5
    # pass 2 (empty cover): s2 {b,c}; s0 adds a; s4 adds nothing -> s2, s0
    # pass 3: s4
    result = run_selector("instag", pool_of(labels), 6)
    assert result.ids == ["s1", "s3", "s5", "s2", "s0", "s4"]
    assert run_selector("instag", pool_of(labels), 4).ids == ["s1", "s3", "s5", "s2"]


def test_untagged_samples_come_last_and_selection_terminates() -> None:
    labels = [[], ["x"], [], ["x"], ["y"]]
    # pass 1: s1 (x), s4 (y); pass 2: s3 (x); nothing tagged left -> untagged s0, s2 in pool order
    assert run_selector("instag", pool_of(labels), 5).ids == ["s1", "s4", "s3", "s0", "s2"]
    assert run_selector("instag", pool_of([[], [], []]), 2).ids == ["s0", "s1"]


def test_budget_no_repeats_and_determinism() -> None:
    rng = np.random.default_rng(0)
    vocabulary = [f"t{i}" for i in range(30)]
    labels = [list(rng.choice(vocabulary, size=rng.integers(0, 6))) for _ in range(200)]
    first = run_selector("instag", pool_of(labels), 120, seed=1)
    assert len(first.ids) == 120 == len(set(first.ids))
    assert first.ids == run_selector("instag", pool_of(labels), 120, seed=2).ids  # no randomness involved
    counts = [len(set(labels[i])) for i in first.indices[:10]]
    assert counts[0] == max(len(set(t)) for t in labels)  # the most complex sample comes first


def test_needs_labels() -> None:
    with pytest.raises(MissingFieldError, match="instag needs labels"):
        run_selector("instag", PoolView(ids=["a", "b"]), 1)


def test_mig_example_pool(data_dir) -> None:
    from selection_ops.pool_view_io import load_pool_view

    pool, _ = load_pool_view(data_dir / "mig" / "example.jsonl", on_error="skip")  # line 3 is malformed upstream
    result = run_selector("instag", pool, len(pool))
    counts = [len(set(pool.labels[i])) for i in result.indices]
    assert sorted(result.indices.tolist()) == list(range(len(pool)))
    assert counts[0] == max(counts)
    first_pass_tags = set(pool.labels[result.indices[0]])
    assert len(first_pass_tags) > 0
