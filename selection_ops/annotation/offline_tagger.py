"""Offline tagger: KeyBERT-style keyphrases of the instruction, chosen with the same MiniLM encoder.

Why this is a defensible stand-in for InsTagger (MIG Sec. 3.1 uses InsTag tags as the label space):
InsTag tags name what a query is about and asks for ("poem", "photosynthesis", "gender-neutral language").
The keyphrases of the query that are closest in meaning to the whole query are exactly such a summary, and
they come out short and lowercase like InsTag's. Procedure, per sample (Grootendorst's KeyBERT recipe):

1. candidates: word n-grams (1..``max_ngram``) of the instruction that do not cross punctuation and hold
   no stopword and no one-letter word; each lemmatised (``lemmatize``), deduplicated,
   at most ``max_candidates`` kept in order of first appearance;
2. score each candidate by the cosine between its embedding and the instruction's embedding;
3. Maximal Marginal Relevance (Carbonell & Goldstein, 1998) picks up to ``max_tags`` candidates:
   ``argmax_c  lambda * cos(c, doc) - (1 - lambda) * max_{s in selected} cos(c, s)``, so the tags cover
   different aspects instead of five variants of one phrase; it stops early once the best remaining
   candidate's cosine to the query is below ``min_similarity`` (the first tag is always kept);
4. a query with no candidate at all (e.g. only stopwords) gets the single tag ``"miscellaneous"``.

InsTag's tags also name the *intent* ("rewriting", "question answering", "programming"), which keyphrases
miss and which, unlike topics, recur across samples (MIG's label graph needs shared labels). So up to two
intent tags come first (``intent_tags``): the task verb that opens the instruction (after courtesy openers
such as "please" or "can you") looked up in ``INTENT_BY_VERB``, else "question answering" for a query
opening with a question word; plus "programming" when the query names code. Keyphrases fill the remaining
``max_tags`` slots. Deterministic: no sampling; ties are broken by order of appearance.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from importlib import resources
from typing import Any

import numpy as np

from selection_ops.annotation.base import Annotator
from selection_ops.annotation.embedders import Embedder, SentenceTransformerEmbedder
from selection_ops.annotation.lemmatize import lemmatize_phrase
from selection_ops.annotation.text import Sample

FALLBACK_TAG = "miscellaneous"


def load_word_list(name: str) -> frozenset[str]:
    """The words of ``selection_ops/annotation/data/<name>`` (one per line; blank lines and ``#`` comments skipped)."""
    text = resources.files("selection_ops.annotation").joinpath("data", name).read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


# English function words plus the filler every instruction shares ("please", "following", "given").
STOPWORDS: frozenset[str] = load_word_list("stopwords.txt")
INTENT_BY_VERB: dict[str, str] = {
    **dict.fromkeys(("rewrite", "rephrase", "paraphrase", "reword"), "rewriting"),
    **dict.fromkeys(("translate",), "translation"),
    **dict.fromkeys(("summarize", "summarise", "condense"), "summarization"),
    **dict.fromkeys(("explain", "clarify", "elaborate"), "explanation"),
    **dict.fromkeys(("describe", "outline"), "description"),
    **dict.fromkeys(("write", "compose", "draft"), "writing"),
    **dict.fromkeys(("create", "generate", "design", "invent", "brainstorm", "construct", "develop", "make"),
                    "content generation"),
    **dict.fromkeys(("list", "name", "enumerate"), "listing"),
    **dict.fromkeys(("classify", "categorize", "categorise", "label"), "classification"),
    **dict.fromkeys(("compare", "contrast", "distinguish"), "comparison"),
    **dict.fromkeys(("calculate", "compute", "solve", "evaluate", "convert", "estimate"), "calculation"),
    **dict.fromkeys(("identify", "find", "detect", "determine", "extract", "locate"), "information extraction"),
    **dict.fromkeys(("edit", "correct", "fix", "improve", "proofread"), "editing"),
    **dict.fromkeys(("suggest", "recommend", "propose"), "recommendation"),
    **dict.fromkeys(("analyze", "analyse", "examine", "assess", "critique", "review"), "analysis"),
    **dict.fromkeys(("sort", "arrange", "rank", "order"), "sorting"),
    **dict.fromkeys(("predict", "forecast"), "prediction"),
    **dict.fromkeys(("imagine", "pretend", "roleplay"), "role play"),
}
QUESTION_OPENERS = frozenset(("what", "why", "how", "who", "whom", "whose", "when", "where", "which", "is", "are",
                              "was", "were", "can", "could", "would", "should", "do", "does", "did", "will", "have",
                              "has"))
COURTESY_OPENERS = ("please", "can you", "could you", "would you", "will you", "i want you to", "i need you to",
                    "help me", "i would like you to", "kindly")
CODE_WORDS = frozenset(("python", "java", "javascript", "typescript", "sql", "c++", "c#", "rust", "golang", "html",
                        "css", "code", "function", "program", "script", "regex", "bash", "algorithm", "class",
                        "method", "api", "json"))
_CHUNK_SPLIT = re.compile(r"[.,;:!?()\[\]{}\"“”‘’`|/\\<>=*_~\n\t]+")
_TOKEN = re.compile(r"[a-z][a-z0-9+#'\-]*[a-z0-9+#]|[a-z]")


def candidate_phrases(text: str, max_ngram: int = 3, max_candidates: int = 64) -> list[str]:
    """Lemmatised n-gram candidates of ``text`` in order of first appearance (see module docstring, step 1)."""
    seen: dict[str, None] = {}
    for chunk in _CHUNK_SPLIT.split(text.lower()):
        words = _TOKEN.findall(chunk)
        for size in range(1, max_ngram + 1):
            for start in range(len(words) - size + 1):
                gram = words[start:start + size]
                if any(w in STOPWORDS for w in gram):
                    continue
                if any(len(w) < 2 for w in gram):
                    continue
                phrase = lemmatize_phrase(" ".join(gram))
                seen.setdefault(phrase, None)
    return list(seen)[:max_candidates]


def intent_tags(text: str) -> list[str]:
    """Up to two intent tags of an instruction (module docstring): task verb or question, plus programming."""
    words = _TOKEN.findall(text.lower())
    tags: list[str] = []
    start = 0
    joined = " ".join(words)
    for opener in COURTESY_OPENERS:
        if joined.startswith(opener + " "):
            start = len(opener.split())
            break
    if start < len(words) and words[start] in INTENT_BY_VERB:
        tags.append(INTENT_BY_VERB[words[start]])
    elif words and words[0] in QUESTION_OPENERS:
        tags.append("question answering")
    if CODE_WORDS.intersection(words):
        tags.append("programming")
    return tags


def mmr_select(doc_similarity: np.ndarray, pairwise: np.ndarray, max_tags: int, diversity_lambda: float,
               min_similarity: float) -> list[int]:
    """Maximal Marginal Relevance.

    doc_similarity: (n_candidates,) cosine of each candidate to the document.
    pairwise:       (n_candidates, n_candidates) cosine between candidates.
    Returns indices in selection order (at least one when there is a candidate).
    """
    n = doc_similarity.shape[0]
    if n == 0:
        return []
    selected = [int(np.argmax(doc_similarity))]
    while len(selected) < min(max_tags, n):
        remaining = np.array([i for i in range(n) if i not in selected])
        redundancy = pairwise[np.ix_(remaining, selected)].max(axis=1)
        gain = diversity_lambda * doc_similarity[remaining] - (1.0 - diversity_lambda) * redundancy
        best = int(remaining[int(np.argmax(gain))])
        if doc_similarity[best] < min_similarity:
            break
        selected.append(best)
    return selected


class KeyphraseTagger(Annotator):
    """Offline tagger (module docstring); writes ``raw_tags`` (list of 1..max_tags lowercase strings)."""

    name = "tags"
    version = "keyphrase-2"

    def __init__(self, embedder: Embedder | None = None, max_tags: int = 5, max_ngram: int = 3,
                 max_candidates: int = 64, diversity_lambda: float = 0.6, min_similarity: float = 0.3) -> None:
        if not 1 <= max_tags:
            raise ValueError(f"max_tags must be >= 1, got {max_tags}")
        self.embedder = embedder or SentenceTransformerEmbedder()
        self.max_tags = max_tags
        self.max_ngram = max_ngram
        self.max_candidates = max_candidates
        self.diversity_lambda = diversity_lambda
        self.min_similarity = min_similarity

    def settings(self) -> dict[str, Any]:
        return {"kind": "keyphrase", "encoder": self.embedder.settings(), "max_tags": self.max_tags,
                "max_ngram": self.max_ngram, "max_candidates": self.max_candidates,
                "diversity_lambda": self.diversity_lambda, "min_similarity": self.min_similarity}

    def output_columns(self) -> tuple[str, ...]:
        return ("raw_tags",)

    def tag_texts(self, texts: Sequence[str]) -> list[list[str]]:
        """Tags for each instruction text; all candidates of the batch are encoded in one call."""
        candidates = [candidate_phrases(t, self.max_ngram, self.max_candidates) for t in texts]
        vocabulary = sorted({c for cands in candidates for c in cands})
        position = {phrase: i for i, phrase in enumerate(vocabulary)}
        doc_vectors = _unit(self.embedder.encode(list(texts)))  # (n_texts, dim)
        phrase_vectors = _unit(self.embedder.encode(vocabulary)) if vocabulary else doc_vectors[:0]  # (n_phrases, dim)
        tags: list[list[str]] = []
        for text, doc_vector, cands in zip(texts, doc_vectors, candidates):
            intents = intent_tags(text)[:self.max_tags]
            room = self.max_tags - len(intents)
            cands = [c for c in cands if c not in intents]
            if room == 0 or not cands:
                tags.append(intents or [FALLBACK_TAG])
                continue
            vectors = phrase_vectors[[position[c] for c in cands]]
            chosen = mmr_select(vectors @ doc_vector, vectors @ vectors.T, room, self.diversity_lambda,
                                self.min_similarity)
            tags.append(intents + [cands[i] for i in chosen])
        return tags

    def annotate(self, samples: Sequence[Sample]) -> list[dict[str, Any]]:
        return [{"raw_tags": tags} for tags in self.tag_texts([s.instruction for s in samples])]


def _unit(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.where(norms > 0, norms, 1.0)).astype(np.float32)
