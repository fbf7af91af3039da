import numpy as np
import pytest

from selection_ops.annotation.offline_tagger import (
    FALLBACK_TAG,
    KeyphraseTagger,
    candidate_phrases,
    intent_tags,
    mmr_select,
)


def test_candidates_skip_stopwords_and_punctuation_and_lemmatise():
    candidates = candidate_phrases("Write a short poem about cats. Please, use rhymes!")
    assert "short poem" in candidates and "cat" in candidates and "rhyme" in candidates
    assert all(not c.startswith(("a ", "the ")) for c in candidates)
    assert "poem about" not in candidates and "cat please" not in candidates  # stopword / punctuation boundary


def test_mmr_hand_example():
    doc = np.array([0.9, 0.85, 0.5])
    pairwise = np.array([[1.0, 0.95, 0.1], [0.95, 1.0, 0.1], [0.1, 0.1, 1.0]])
    # first: argmax doc -> 0; then gains (lambda 0.6): c1 0.6*0.85-0.4*0.95=0.13, c2 0.6*0.5-0.4*0.1=0.26 -> 2
    assert mmr_select(doc, pairwise, max_tags=2, diversity_lambda=0.6, min_similarity=0.0) == [0, 2]
    # third pick: c1 is left (0.85 >= 0.45); with min_similarity 0.6 the MMR pick c2 (0.5) stops it after one
    assert mmr_select(doc, pairwise, max_tags=3, diversity_lambda=0.6, min_similarity=0.45) == [0, 2, 1]
    assert mmr_select(doc, pairwise, max_tags=3, diversity_lambda=0.6, min_similarity=0.6) == [0]
    assert mmr_select(np.zeros(0), np.zeros((0, 0)), 3, 0.6, 0.3) == []


@pytest.fixture(scope="module")
def tagger():
    return KeyphraseTagger()


def test_real_tags_shape_and_determinism(tagger, real_pool):
    from selection_ops.annotation.pipeline import samples_from_pool

    texts = [s.instruction for s in samples_from_pool(real_pool)][:25]
    first = tagger.tag_texts(texts)
    assert first == tagger.tag_texts(texts)
    for tags in first:
        assert 1 <= len(tags) <= 5
        assert all(t == t.lower().strip() and 0 < len(t.split()) <= 3 for t in tags)
    # the gender-neutral rewrite (first Alpaca record) is tagged with what it asks and what it is about
    assert first[0][0] == "rewriting" and "gender-neutral language" in first[0]


def test_fallback_for_stopword_only_query(tagger):
    assert tagger.tag_texts(["Of it, for me."]) == [[FALLBACK_TAG]]
    assert tagger.tag_texts(["Can you do it for me?"]) == [["question answering"]]


@pytest.mark.parametrize("text, intents", [
    ("Rewrite the sentence using gender-neutral language.", ["rewriting"]),
    ("Please translate this into French.", ["translation"]),
    ("Can you summarize the article?", ["summarization"]),
    ("What is the capital of Peru?", ["question answering"]),
    ("Write a Python function that reverses a string.", ["writing", "programming"]),
    ("The weather is nice today.", []),
])
def test_intent_tags(text, intents):
    assert intent_tags(text) == intents


def test_stopwords_are_package_data():
    import tomllib
    from pathlib import Path

    from selection_ops.annotation.offline_tagger import STOPWORDS, load_word_list

    assert {"the", "and", "please", "following", "given"} <= STOPWORDS
    assert not any(word.startswith("#") or " " in word or not word for word in STOPWORDS)
    assert load_word_list("stopwords.txt") == STOPWORDS
    pyproject = tomllib.loads((Path(__file__).resolve().parents[3] / "pyproject.toml").read_text())
    assert "data/*.txt" in pyproject["tool"]["setuptools"]["package-data"]["selection_ops.annotation"]
