"""TTR and vocd-D on texts whose values follow by hand."""

from __future__ import annotations

import numpy as np
import pytest

from selection_ops.data_model import PoolView
from selection_ops.metrics.lexical import VOCD_SAMPLE_SIZES, distinct_prefix_counts, fit_vocd_d, tokenize, vocd_curve
from selection_ops.registry import measure


def view(texts: list[str]) -> PoolView:
    return PoolView(ids=[f"t{i}" for i in range(len(texts))], texts=texts)


def one(name: str, texts: list[str], **params) -> float:
    return measure(view(texts), None, [name], {name: params})[name]


def test_tokenize_words_and_punctuation() -> None:
    assert tokenize("Hello, World! hello") == ["hello", ",", "world", "!", "hello"]


def test_ttr_short_texts_use_all_tokens() -> None:
    # "a a b c": 3 types / 4 tokens; "x y": 1.0 -> mean 0.875
    assert one("ttr", ["a a b c", "x y"]) == pytest.approx((0.75 + 1.0) / 2)


def test_ttr_samples_thirty_tokens() -> None:
    distinct = " ".join(f"w{i}" for i in range(100))  # any 30 sampled tokens are distinct
    two_types = " ".join(["yes", "no"] * 40)  # 30 sampled from 80 contain both types (all but surely)
    assert one("ttr", [distinct]) == pytest.approx(1.0)
    assert one("ttr", [two_types]) == pytest.approx(2 / 30)
    assert one("ttr", [two_types], tokens=4) == pytest.approx(0.5, abs=0.5)  # 1 or 2 types of 4


def test_ttr_permutation_invariant_and_seeded() -> None:
    rng = np.random.default_rng(0)
    texts = [" ".join(rng.choice([f"v{i}" for i in range(40)], size=60)) for _ in range(5)]
    assert one("ttr", texts) == pytest.approx(one("ttr", texts[::-1]))
    assert one("ttr", texts, seed=3) == one("ttr", texts, seed=3)


def test_distinct_prefix_counts() -> None:
    draws = np.array([[1, 1, 2, 3, 2], [4, 0, 4, 0, 5]])
    np.testing.assert_array_equal(distinct_prefix_counts(draws), [[1, 1, 2, 3, 3], [1, 2, 2, 2, 3]])


def test_vocd_fit_recovers_known_d() -> None:
    sizes = np.asarray(VOCD_SAMPLE_SIZES, dtype=float)
    true_d = np.array([15.0, 70.0, 300.0])
    ttr = vocd_curve(sizes[None, :], true_d[:, None])
    np.testing.assert_allclose(fit_vocd_d(ttr, np.ones_like(ttr), sizes, 1000.0), true_d, rtol=1e-4)
    # Eq. 13 as printed equals the cancellation-free form
    assert vocd_curve(np.array(30.0), np.array(70.0)) == pytest.approx(70 / 30 * (np.sqrt(1 + 60 / 70) - 1))


def test_vocd_orders_texts_by_vocabulary_richness() -> None:
    rng = np.random.default_rng(1)
    poor = [" ".join(rng.choice([f"p{i}" for i in range(8)], size=120)) for _ in range(4)]
    rich = [" ".join(rng.choice([f"r{i}" for i in range(400)], size=120)) for _ in range(4)]
    assert one("vocd_d", poor) < one("vocd_d", rich)


def test_vocd_skips_texts_under_ten_tokens() -> None:
    text = " ".join(f"w{i % 25}" for i in range(80))
    assert one("vocd_d", [text, "too short"]) == pytest.approx(one("vocd_d", [text]))
    with pytest.raises(ValueError, match="at least 10 tokens"):
        one("vocd_d", ["too short"])


def test_errors_name_the_record() -> None:
    with pytest.raises(ValueError, match="record 't1' has no tokens"):
        one("ttr", ["fine text", "   "])
    with pytest.raises(ValueError, match="needs the sample texts"):
        measure(PoolView(ids=["a"]), None, ["ttr"])


def test_real_alpaca_texts(data_dir) -> None:
    import json

    records = json.loads((data_dir / "pools" / "alpaca_2k_sdft.json").read_text())
    texts = ["\n".join(filter(None, (r["instruction"], r.get("input", ""), r["output"]))) for r in records]
    pool = PoolView(ids=[f"alpaca{i}" for i in range(len(texts))], texts=texts)
    rows = np.arange(200)
    ttr = measure(pool.subset(rows), None, ["ttr"])["ttr"]
    assert 0.5 < ttr <= 1.0
    # TTR and vocd-D are means over samples: repeating every sample 3 times changes neither
    repeated = measure(pool.subset(np.repeat(rows, 3)), None, ["ttr", "vocd_d"])
    assert repeated["ttr"] == pytest.approx(ttr)
    assert repeated["vocd_d"] == pytest.approx(measure(pool.subset(rows), None, ["vocd_d"])["vocd_d"])
