"""Hand-crafted quality indicators (survey Sec. 3.1) and the one score they combine into.

Indicators, computed on the responses (all assistant turns joined) unless named otherwise:
- ``quality_response_words`` / ``quality_instruction_words``: length in words (Cao et al., 2023 use input and
  output length);
- ``quality_mtld``: the measure of textual lexical diversity (McCarthy & Jarvis, 2010; survey Eq. 24): mean
  length of the word runs whose type-token ratio stays above 0.72, averaged over a forward and a backward pass;
- ``quality_distinct2``: distinct bigrams / bigrams (Li et al., 2015);
- ``quality_flesch``: Flesch reading ease, 206.835 - 1.015 words/sentences - 84.6 syllables/words
  (Flesch, 1948), syllables counted as vowel groups;
- ``quality_repetition``: share of word trigrams that repeat an earlier trigram ("excessive word repetition",
  Saranathan et al.).

``quality_handcrafted`` in [0, 1] is the unweighted mean of four fixed per-sample maps (no weights were
fitted, and no pool statistics are used, so a sample's score does not change when the pool does):
- length     ``min(1, ln(1 + words) / ln(1 + 250))`` (saturates at 250 response words);
- diversity  ``min(1, MTLD / 100)``;
- readability ``clip(1 - max(0, |flesch - 55| - 25) / 50, 0, 1)`` (1 for Flesch 30..80, plain prose;
  0 for <= -20, unreadable, or >= 130, word lists);
- non-repetition ``1 - repetition``.
A sample with an empty response scores 0.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from selection_ops.annotation.base import Annotator
from selection_ops.annotation.text import Sample

MTLD_THRESHOLD = 0.72
LENGTH_SATURATION_WORDS = 250
_WORD = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)?")
_SENTENCE_END = re.compile(r"[.!?]+(?:\s|$)|\n+")
_VOWEL_GROUP = re.compile(r"[aeiouy]+")

INDICATOR_COLUMNS = ("quality_response_words", "quality_instruction_words", "quality_mtld", "quality_distinct2",
                     "quality_flesch", "quality_repetition", "quality_handcrafted")


def words(text: str) -> list[str]:
    """Lowercase word tokens."""
    return [w.lower() for w in _WORD.findall(text)]


def _mtld_pass(tokens: Sequence[str], threshold: float) -> float:
    factors, types, count = 0.0, set(), 0
    for token in tokens:
        types.add(token)
        count += 1
        if len(types) / count <= threshold:
            factors += 1.0
            types, count = set(), 0
    if count > 0:
        factors += (1.0 - len(types) / count) / (1.0 - threshold)
    return len(tokens) / factors if factors > 0 else float(len(tokens))


def mtld(tokens: Sequence[str], threshold: float = MTLD_THRESHOLD) -> float:
    """MTLD (McCarthy & Jarvis, 2010): mean of forward and backward factor lengths; 0 for no tokens.

    A text whose type-token ratio never falls to the threshold counts as its own length.
    """
    if not tokens:
        return 0.0
    return 0.5 * (_mtld_pass(tokens, threshold) + _mtld_pass(list(reversed(tokens)), threshold))


def distinct_n(tokens: Sequence[str], n: int) -> float:
    """Distinct n-grams / n-grams; 0 when the text has fewer than n words."""
    grams = [tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


def repetition(tokens: Sequence[str], n: int = 3) -> float:
    """Share of n-grams that already occurred earlier in the text: 1 - distinct-n; 0 for short texts."""
    grams = [tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]
    return 1.0 - len(set(grams)) / len(grams) if grams else 0.0


def syllables(word: str) -> int:
    """Vowel groups, minus a silent final 'e', at least 1."""
    groups = len(_VOWEL_GROUP.findall(word.lower()))
    if word.lower().endswith("e") and not word.lower().endswith(("le", "ee")) and groups > 1:
        groups -= 1
    return max(groups, 1)


def flesch_reading_ease(text: str) -> float:
    """206.835 - 1.015 (words / sentences) - 84.6 (syllables / words); 0 for a text without words."""
    tokens = _WORD.findall(text)
    if not tokens:
        return 0.0
    sentences = max(1, len([s for s in _SENTENCE_END.split(text) if _WORD.search(s)]))
    total_syllables = sum(syllables(t) for t in tokens)
    return 206.835 - 1.015 * len(tokens) / sentences - 84.6 * total_syllables / len(tokens)


def combine(response_words: int, mtld_value: float, flesch: float, repeated: float) -> float:
    """``quality_handcrafted``: mean of the four maps in the module docstring, in [0, 1]."""
    if response_words == 0:
        return 0.0
    length = min(1.0, math.log1p(response_words) / math.log1p(LENGTH_SATURATION_WORDS))
    diversity = min(1.0, mtld_value / 100.0)
    readability = min(1.0, max(0.0, 1.0 - max(0.0, abs(flesch - 55.0) - 25.0) / 50.0))
    return (length + diversity + readability + (1.0 - repeated)) / 4.0


def indicators(instruction: str, response: str) -> dict[str, float]:
    """All indicator columns for one sample (module docstring)."""
    response_tokens = words(response)
    mtld_value = mtld(response_tokens)
    flesch = flesch_reading_ease(response)
    repeated = repetition(response_tokens)
    return {
        "quality_response_words": float(len(response_tokens)),
        "quality_instruction_words": float(len(words(instruction))),
        "quality_mtld": mtld_value,
        "quality_distinct2": distinct_n(response_tokens, 2),
        "quality_flesch": flesch,
        "quality_repetition": repeated,
        "quality_handcrafted": combine(len(response_tokens), mtld_value, flesch, repeated),
    }


class HandcraftedIndicators(Annotator):
    """Writes the ``quality_*`` columns; cheap (pure Python), no model."""

    name = "handcrafted"
    version = "1"

    def settings(self) -> dict[str, Any]:
        return {"mtld_threshold": MTLD_THRESHOLD, "length_saturation_words": LENGTH_SATURATION_WORDS}

    def output_columns(self) -> tuple[str, ...]:
        return INDICATOR_COLUMNS

    def annotate(self, samples: Sequence[Sample]) -> list[dict[str, Any]]:
        rows = []
        for sample in samples:
            instruction = "\n".join(q for q, _ in sample.turns)
            response = "\n".join(r for _, r in sample.turns)
            rows.append(indicators(instruction, response))
        return rows
