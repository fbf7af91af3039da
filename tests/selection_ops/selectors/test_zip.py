"""ZIP: compression ratios, the incremental compressor, and the three-stage greedy traced on small pools."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from selection_ops.data_model import MissingFieldError, PoolView
from selection_ops.registry import run_selector
from selection_ops.selectors.zip_select import GrowingSet, compression_ratio


def pool_of(texts: list[str]) -> PoolView:
    return PoolView(ids=[f"s{i}" for i in range(len(texts))], texts=texts)


def random_text(rng: np.random.Generator, vocabulary: int, words: int) -> str:
    return " ".join(f"w{int(i)}" for i in rng.integers(0, vocabulary, size=words))


def test_compression_ratio_definition() -> None:
    data = b"abcabcabcabcabcabc" * 20
    assert compression_ratio(data) == len(data) / len(zlib.compress(data, 9))
    assert compression_ratio(data) > compression_ratio(bytes(np.random.default_rng(0).integers(0, 256, 360,
                                                                                               dtype=np.uint8)))


def test_growing_set_equals_one_shot_compression() -> None:
    rng = np.random.default_rng(1)
    texts = [random_text(rng, 50, int(rng.integers(1, 300))).encode() for _ in range(12)]
    growing = GrowingSet()
    for count, text in enumerate(texts):
        assert growing.ratio_with(text) == pytest.approx(compression_ratio(b"\n".join(texts[:count] + [text])),
                                                         abs=0)
        growing.add(text)


def reference_zip(texts: list[str], budget: int, k1: int, k2: int, k3: int) -> list[int]:
    """The official loop restated with full recompression (slow, obvious)."""
    data = [t.encode() for t in texts]

    def cr(rows: list[int]) -> float:
        return compression_ratio(b"\n".join(data[r] for r in rows))

    state = np.array([cr([i]) for i in range(len(data))])
    selected: list[int] = []
    while len(selected) < budget:
        masked = state.copy()
        masked[selected] = np.inf
        candidates = list(np.argsort(masked, kind="stable")[:min(k1, len(data) - len(selected))])
        for row in candidates:
            state[row] = cr(selected + [row])
        stage2 = [candidates[i] for i in np.argsort([state[r] for r in candidates], kind="stable")[:k2]]
        state[stage2] = 1e6
        picks: list[int] = []
        waiting = list(stage2)
        for _ in range(min(k3, len(stage2))):
            best = int(np.argmin([cr(picks + [r]) for r in waiting]))
            picks.append(waiting.pop(best))
        selected += picks
    return selected[:budget]


@pytest.mark.parametrize(("k1", "k2", "k3", "budget"), [(8, 4, 2, 7), (30, 30, 30, 12), (5, 3, 1, 9), (100, 6, 4, 21)])
def test_matches_reference_loop(k1: int, k2: int, k3: int, budget: int) -> None:
    rng = np.random.default_rng(k1 + budget)
    texts = [random_text(rng, int(rng.integers(5, 80)), int(rng.integers(5, 60))) for _ in range(30)]
    got = run_selector("zip", pool_of(texts), budget, params={"k1": k1, "k2": k2, "k3": k3})
    assert got.indices.tolist() == reference_zip(texts, budget, k1, k2, k3)


def test_prefers_non_redundant_texts() -> None:
    rng = np.random.default_rng(2)
    repetitive = ["the same words again " * 30 for _ in range(10)]
    varied = [random_text(rng, 5000, 120) for _ in range(10)]
    result = run_selector("zip", pool_of(repetitive + varied), 5, params={"k1": 20, "k2": 10, "k3": 5})
    assert all(row >= 10 for row in result.indices)


def test_budget_trim_no_repeats_and_full_pool() -> None:
    rng = np.random.default_rng(3)
    texts = [random_text(rng, 40, 30) for _ in range(25)]
    result = run_selector("zip", pool_of(texts), 25, params={"k1": 10, "k2": 4, "k3": 3})
    assert sorted(result.indices.tolist()) == list(range(25))
    assert len(run_selector("zip", pool_of(texts), 7, params={"k1": 10, "k2": 4, "k3": 3}).ids) == 7


def test_errors() -> None:
    with pytest.raises(MissingFieldError, match="zip needs the sample texts"):
        run_selector("zip", PoolView(ids=["a"]), 1)
    with pytest.raises(ValueError, match="record 's1' has an empty text"):
        run_selector("zip", pool_of(["text", ""]), 1)
    with pytest.raises(ValueError, match="k3 must be >= 1"):
        run_selector("zip", pool_of(["a", "b"]), 1, params={"k3": 0})


def test_mig_example_pool(data_dir) -> None:
    from selection_ops.pool_view_io import load_pool_view

    pool, _ = load_pool_view(data_dir / "mig" / "example.jsonl", on_error="skip")  # line 3 is malformed upstream
    result = run_selector("zip", pool, 5)  # default k1/k2/k3 larger than the pool: capped
    assert len(set(result.indices.tolist())) == 5
    single = [compression_ratio(pool.texts[i].encode()) for i in range(len(pool))]
    # with k3 >= pool size, stage 3 starts from the lowest-CR candidate of stage 2 (empty selected set)
    assert result.indices[0] == int(np.argmin(single))
