"""DEITA's expected-score formula against hand-computed values, per-turn handling and loud failures."""

import math

import numpy as np
import pytest

from selection_ops.annotation import deita
from selection_ops.annotation.deita import DeitaScoreError, DeitaScorer, expected_score, score_from_top_logprobs
from selection_ops.annotation.pipeline import deita_combination
from selection_ops.annotation.text import sample_from_record


def test_expected_score_hand_computed():
    assert expected_score(np.zeros(6)) == pytest.approx(3.5)  # uniform: (1+...+6)/6
    # logits ln k -> softmax p_k = k/21 -> sum k^2/21 = 91/21
    assert expected_score(np.log(np.arange(1, 7))) == pytest.approx(91 / 21)
    # only "5" and "6" matter, equal logits: 5.5; a constant shift changes nothing
    assert expected_score(np.array([-50, -50, -50, -50, 3.0, 3.0]) + 7) == pytest.approx(5.5, abs=1e-12)
    # logits (0, ln 3) on "1","2" only: p = (1/4, 3/4) -> 1.75
    assert expected_score(np.array([0, math.log(3), -1e9, -1e9, -1e9, -1e9])) == pytest.approx(1.75)


def test_top_logprobs_path_and_missing_digit_fails_with_record_id():
    logprobs = {str(k): math.log(k / 21) for k in range(1, 7)} | {"The": -0.1}
    assert score_from_top_logprobs(logprobs, "r1") == pytest.approx(91 / 21)
    del logprobs["4"]
    with pytest.raises(DeitaScoreError, match=r"record 'r9'.*\['4'\]"):
        score_from_top_logprobs(logprobs, "r9")
    with pytest.raises(DeitaScoreError, match="record 'r2': non-finite"):
        expected_score(np.array([0, 0, np.nan, 0, 0, 0]), "r2")


class WordTokenizer:
    """Stands in for a tokenizer: one id per whitespace word."""

    def encode(self, text, add_special_tokens=True):
        return list(range(len(text.split())))


def test_per_turn_scores_and_sum_of_products(monkeypatch):
    monkeypatch.setattr(deita, "load_tokenizer", lambda path: WordTokenizer())
    designed = np.array([np.zeros(6), np.log(np.arange(1, 7)), [-1e9] * 5 + [0.0]])  # 3.5, 91/21, 6
    monkeypatch.setattr(DeitaScorer, "digit_logits", lambda self, prompts: designed[:len(prompts)])
    samples = [sample_from_record("one", [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]),
               sample_from_record("two", [{"role": "user", "content": "q1"}, {"role": "assistant", "content": "a1"},
                                          {"role": "user", "content": "q2"}, {"role": "assistant", "content": "a2"}])]
    rows = DeitaScorer("quality", model_path="stub").annotate(samples)
    assert rows[0]["deita_quality_turns"] == pytest.approx([3.5])
    assert rows[1]["deita_quality_turns"] == pytest.approx([91 / 21, 6.0])
    assert rows[1]["deita_quality"] == pytest.approx((91 / 21 + 6.0) / 2)
    # DEITA's conversation score: sum over turns of quality x complexity
    assert deita_combination([91 / 21, 6.0], [2.0, 0.5]) == pytest.approx(2 * 91 / 21 + 3.0)
    with pytest.raises(ValueError, match="turn counts differ"):
        deita_combination([1.0], [1.0, 2.0])


def test_prompts_are_deitas_templates():
    scorer = DeitaScorer("complexity", model_path="stub")
    assert scorer.template.format(instruction="Hi") == ("You are a helpful assistant. Please identify the complexity "
                                                        "score of the following user query. \n##Query: Hi  \n"
                                                        "##Complexity: ")
    assert DeitaScorer("quality", model_path="stub").template.endswith("#Response#:\n{output} \n##Quality: ")
