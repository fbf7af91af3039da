import math

import pytest

from selection_ops.annotation.indicators import (
    combine,
    distinct_n,
    flesch_reading_ease,
    indicators,
    mtld,
    repetition,
    syllables,
)


def test_mtld_hand_computed():
    # forward: a b a -> TTR 2/3 = 0.667 <= 0.72 closes a factor after 3 tokens; the remaining "b" has TTR 1,
    # partial factor (1 - 1) / 0.28 = 0 -> MTLD_fwd = 4 / 1 = 4. Backward "b a b a": same, 4.
    assert mtld(["a", "b", "a", "b"]) == pytest.approx(4.0)
    # all distinct: TTR never drops, no factor -> the text's own length
    assert mtld(["a", "b", "c"]) == pytest.approx(3.0)
    assert mtld([]) == 0.0


def test_distinct_and_repetition():
    tokens = ["the", "cat", "the", "cat", "the", "cat"]
    assert distinct_n(tokens, 2) == pytest.approx(2 / 5)  # bigrams: (the,cat),(cat,the) x ... 2 distinct of 5
    assert repetition(tokens, 3) == pytest.approx(1 - 2 / 4)
    assert repetition(["one", "two"], 3) == 0.0


def test_flesch_hand_computed():
    # "The cat sat." 3 words, 1 sentence, 3 syllables -> 206.835 - 1.015*3 - 84.6*1
    assert flesch_reading_ease("The cat sat.") == pytest.approx(206.835 - 3.045 - 84.6)
    assert syllables("reading") == 2 and syllables("cake") == 1


def test_combined_score_range_and_order():
    assert combine(0, 0.0, 0.0, 0.0) == 0.0
    best = combine(250, 100.0, 55.0, 0.0)
    assert best == pytest.approx(1.0)
    assert combine(5, 5.0, 55.0, 0.0) < best
    # length map is logarithmic: 15 words -> ln 16 / ln 251
    assert combine(15, 100.0, 55.0, 0.0) == pytest.approx((math.log(16) / math.log(251) + 3) / 4)


def test_degenerate_response_scores_below_good_one():
    good = indicators("Explain photosynthesis.", "Photosynthesis is the process by which green plants use "
                      "sunlight, water and carbon dioxide to make glucose. Oxygen is released as a by-product, "
                      "and the energy stored in glucose feeds almost every food chain on Earth.")
    looping = indicators("Explain photosynthesis.", "plants plants plants plants plants plants plants plants")
    assert 0 <= looping["quality_handcrafted"] < good["quality_handcrafted"] <= 1
    assert looping["quality_repetition"] == pytest.approx(5 / 6)  # 6 trigrams, 1 distinct
