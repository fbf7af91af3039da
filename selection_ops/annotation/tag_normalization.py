"""Tag normalisation as InsTag (Lu et al., 2023, Sec. 2.2) and MIG (Appx. A.1) describe it.

Open-ended taggers emit tens of thousands of near-duplicate tags ("Python programming", "python-programming",
"Python programs"). Steps, in order:
1. clean: lowercase; ``-``, ``_`` and ``/`` become spaces; other punctuation except ``+`` and ``#`` (c++, c#)
   is removed; whitespace collapsed; each word lemmatised (``lemmatize``, rule-based, since WordNet data is not
   available offline);
2. frequency filter: a cleaned tag carried by fewer than ``min_frequency`` samples is dropped (InsTag drops
   long-tail tags; 1 keeps all);
3. merge: the surviving tags are embedded, unit-normalised, and clustered with DBSCAN (``min_samples=1``,
   cosine distance ``eps``, 0.05 by default); every tag in a cluster becomes the cluster's most frequent tag
   (ties: alphabetically first). DBSCAN runs on Euclidean distance between unit vectors with radius
   ``sqrt(2 * eps)``, which is the same neighbourhood (``|u - v|^2 = 2 (1 - cos)``) and lets it use a tree.
Alternatively, with a ``vocabulary`` (e.g. MIG's 4,531 valid InsTag tags) steps 2-3 are replaced by mapping
each cleaned tag to the vocabulary tag with the same cleaned form, else to the nearest vocabulary tag by
cosine when its distance is at most ``vocabulary_max_distance``, else dropping it.
The result includes the mapping raw tag -> final tag (``None`` when dropped), kept as an artifact.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from selection_ops.annotation.embedders import Embedder
from selection_ops.annotation.lemmatize import lemmatize_phrase
from selection_ops.foundation.atomic import write_text_atomic

logger = logging.getLogger(__name__)

_SEPARATORS = re.compile(r"[-_/]+")
_PUNCTUATION = re.compile(r"[^\w\s+#]+")


def clean_tag(tag: str) -> str:
    """Step 1: lowercase, strip punctuation (keeping + and #), lemmatise. May return ``""``."""
    text = _SEPARATORS.sub(" ", str(tag).lower())
    text = _PUNCTUATION.sub("", text).replace("_", " ")
    return lemmatize_phrase(" ".join(text.split()))


@dataclass(frozen=True)
class NormalizedTags:
    """labels: per sample, the final tags (order of first appearance, no duplicates).
    mapping: raw tag -> final tag, or None when the tag was dropped."""

    labels: list[list[str]]
    mapping: dict[str, str | None]

    def write_mapping(self, path: Path) -> None:
        write_text_atomic(path, json.dumps(self.mapping, indent=1, sort_keys=True, ensure_ascii=False))


def load_vocabulary(path: Path) -> list[str]:
    """A JSON list of tag strings (the format of MIG's ``valid_tag_path.json``)."""
    vocabulary = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(vocabulary, list) or not all(isinstance(t, str) for t in vocabulary):
        raise ValueError(f"{path}: a tag vocabulary must be a JSON list of strings")
    return vocabulary


def _unit_vectors(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    vectors = np.asarray(embedder.encode(list(texts)), dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0)


def merge_by_embedding(tags: Sequence[str], frequency: Counter, embedder: Embedder, eps: float) -> dict[str, str]:
    """Step 3: tag -> representative of its DBSCAN cluster (cosine distance ``eps``, ``min_samples=1``)."""
    from sklearn.cluster import DBSCAN

    if not tags:
        return {}
    ordered = sorted(tags)
    vectors = _unit_vectors(embedder, ordered)
    clusters = DBSCAN(eps=float(np.sqrt(2.0 * eps)), min_samples=1, metric="euclidean").fit_predict(vectors)
    representative: dict[int, str] = {}
    for tag, cluster in zip(ordered, clusters):
        best = representative.get(int(cluster))
        if best is None or frequency[tag] > frequency[best]:  # ordered alphabetically: ties keep the first
            representative[int(cluster)] = tag
    return {tag: representative[int(cluster)] for tag, cluster in zip(ordered, clusters)}


def map_to_vocabulary(tags: Sequence[str], vocabulary: Sequence[str], embedder: Embedder | None,
                      max_distance: float) -> dict[str, str | None]:
    """Cleaned tag -> vocabulary tag (exact cleaned match, else nearest within ``max_distance``) or None."""
    by_clean: dict[str, str] = {}
    for entry in vocabulary:
        by_clean.setdefault(clean_tag(entry), entry)
    result: dict[str, str | None] = {t: by_clean.get(t) for t in tags}
    unmatched = sorted(t for t, v in result.items() if v is None and t)
    if unmatched and embedder is not None and max_distance > 0:
        vocab_entries = list(by_clean.values())
        similarity = _unit_vectors(embedder, unmatched) @ _unit_vectors(embedder, vocab_entries).T
        best = similarity.argmax(axis=1)
        for row, tag in enumerate(unmatched):
            if 1.0 - similarity[row, best[row]] <= max_distance:
                result[tag] = vocab_entries[int(best[row])]
    return result


def normalize_tags(raw_tags: Sequence[Sequence[str]], embedder: Embedder | None = None, min_frequency: int = 1,
                   merge_eps: float = 0.05, vocabulary: Sequence[str] | None = None,
                   vocabulary_max_distance: float = 0.15) -> NormalizedTags:
    """Steps 1-3 (or the vocabulary mapping) over all samples' raw tags; see the module docstring.

    raw_tags: (n_samples,) lists of tags. ``embedder`` None skips the embedding merge (and the nearest-tag
    vocabulary match). ``merge_eps`` <= 0 also skips the merge.
    """
    if min_frequency < 1:
        raise ValueError(f"min_frequency must be >= 1, got {min_frequency}")
    cleaned_of = {raw: clean_tag(raw) for tags in raw_tags for raw in tags}
    frequency: Counter = Counter()
    for tags in raw_tags:
        frequency.update({cleaned_of[raw] for raw in tags} - {""})
    if vocabulary is not None:
        final_of_clean = map_to_vocabulary(sorted(frequency), vocabulary, embedder, vocabulary_max_distance)
    else:
        kept = sorted(t for t, count in frequency.items() if count >= min_frequency)
        if embedder is not None and merge_eps > 0:
            final_of_clean = dict(merge_by_embedding(kept, frequency, embedder, merge_eps))
        else:
            final_of_clean = {t: t for t in kept}
    mapping = {raw: final_of_clean.get(cleaned) if cleaned else None for raw, cleaned in cleaned_of.items()}
    labels = []
    for tags in raw_tags:
        finals = [mapping[raw] for raw in tags]
        labels.append(list(dict.fromkeys(t for t in finals if t is not None)))
    dropped = sum(1 for v in mapping.values() if v is None)
    logger.info("tag normalisation: %d raw tags -> %d final tags (%d dropped)", len(mapping),
                len({v for v in mapping.values() if v is not None}), dropped)
    return NormalizedTags(labels=labels, mapping=mapping)
