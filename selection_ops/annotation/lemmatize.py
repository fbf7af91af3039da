"""A small rule-based English lemmatiser for tags (plural nouns -> singular), used because NLTK's WordNet data
cannot be downloaded offline (``nltk.corpus.wordnet`` raises ``LookupError`` without it).

Tags are short noun phrases ("creative writing", "python programming"), so the one inflection that splits
otherwise identical tags is the plural ("poems" / "poem", "stories" / "story"). Rules, applied per word,
first match wins:
1. an irregular plural from ``IRREGULAR`` (children -> child, analyses -> analysis, ...);
2. words that only look plural stay (``INVARIANT``; words ending in ss/us/is/ics: class, status, basis, physics);
3. -ies -> -y (stories -> story), -sses/-shes/-ches/-xes/-zes drop -es (boxes -> box, matches -> match);
4. any other final -s after a consonant or vowel is dropped when the word has more than three letters.
Gerunds are kept ("writing", "problem solving"): in tags they are nouns. WordNet's verb lemmas
("problem solve") differ; supply a vocabulary (``tag_normalization``) to match a WordNet-normalised list.
Words with digits or symbols are returned unchanged.
"""

from __future__ import annotations

import re

IRREGULAR: dict[str, str] = {
    "children": "child", "people": "person", "men": "man", "women": "woman", "mice": "mouse", "feet": "foot",
    "teeth": "tooth", "geese": "goose", "criteria": "criterion", "phenomena": "phenomenon", "analyses": "analysis",
    "theses": "thesis", "hypotheses": "hypothesis", "indices": "index", "matrices": "matrix", "vertices": "vertex",
    "leaves": "leaf", "lives": "life", "knives": "knife", "wives": "wife", "halves": "half", "selves": "self",
    "shelves": "shelf", "wolves": "wolf", "potatoes": "potato", "tomatoes": "tomato", "heroes": "hero",
    "quizzes": "quiz", "buses": "bus", "gases": "gas", "lenses": "lens", "viruses": "virus", "crises": "crisis",
    "diagnoses": "diagnosis", "syntheses": "synthesis", "axes": "axis",
}
INVARIANT: frozenset[str] = frozenset({
    "news", "series", "species", "always", "lens", "gas", "bus", "yes", "its", "has", "was", "does", "this", "thus",
    "plus", "minus", "bias", "atlas", "canvas", "chaos", "ethos", "pathos", "alias", "corpus", "virus", "campus",
    "sometimes", "perhaps", "whereas", "towards", "afterwards", "data", "media", "jeans", "pants", "scissors",
})
_WORD = re.compile(r"^[a-z]+$")


def lemmatize_word(word: str) -> str:
    """The singular of a lowercase plural noun by the rules above; anything else unchanged."""
    if not _WORD.match(word) or len(word) <= 3:
        return word
    if word in IRREGULAR:
        return IRREGULAR[word]
    if word in INVARIANT or word.endswith(("ss", "us", "is", "ics", "ous")):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes", "zes")):
        return word[:-2]
    if word.endswith("s"):
        return word[:-1]
    return word


def lemmatize_phrase(phrase: str) -> str:
    """Each whitespace-separated word lemmatised; whitespace collapsed to single spaces."""
    return " ".join(lemmatize_word(word) for word in phrase.split())
