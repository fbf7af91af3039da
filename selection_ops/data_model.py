"""The one in-memory view of a pool that every selector and metric reads.

A selector never sees files or conversations directly: it sees a ``PoolView`` whose optional columns
(labels, score, embeddings, texts, extra numeric columns) were filled by the annotation stage or read
from a user's file. Each selector declares which columns it needs; ``PoolView.require`` turns a missing
one into an error that says what is missing for which method.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# Names a selector or metric may list in its ``needs``; each maps to a PoolView attribute or extra column.
FIELD_DESCRIPTIONS: dict[str, str] = {
    "labels": "labels (tags) per sample",
    "score": "a quality score",
    "embeddings": "embeddings",
    "texts": "the sample texts",
}


class MissingFieldError(ValueError):
    """A selector or metric was asked to run on a pool that lacks a column it needs."""


@dataclass(frozen=True)
class PoolView:
    """Columns of a pool of ``n`` samples, aligned by position.

    ids:        (n,) stable sample ids, unique.
    labels:     (n,) list of label strings per sample (duplicates allowed, as annotators emit them), or None.
    score:      (n,) float64 quality score used by score-aware selectors (MIG, DEITA, QDIT, CaR), or None.
    embeddings: (n, d) float32 sample embeddings (not necessarily normalised), or None.
    texts:      (n,) the sample as one string (instruction + response), for text metrics and ZIP, or None.
    extra:      further (n,) float64 columns by name, e.g. ``deita_score`` (DEITA's sum over turns of
                quality x complexity), ``ifd``, ``superfilter_ratio``.
    label_graph: the pool's label graph (``selection_ops.mig.label_graph.LabelGraph``) when one was built or
                given; MIG builds one with the default offline encoder when it is None.
    """

    ids: Sequence[str]
    labels: Sequence[Sequence[str]] | None = None
    score: np.ndarray | None = None
    embeddings: np.ndarray | None = None
    texts: Sequence[str] | None = None
    extra: Mapping[str, np.ndarray] = field(default_factory=dict)
    label_graph: Any = None

    def __post_init__(self) -> None:
        n = len(self.ids)
        if len(set(self.ids)) != n:
            seen: set[str] = set()
            dup = next(i for i in self.ids if i in seen or seen.add(i))  # type: ignore[func-returns-value]
            raise ValueError(f"pool ids must be unique; id {dup!r} appears more than once")
        for name, column in self._columns().items():
            if column is not None and len(column) != n:
                raise ValueError(f"pool column {name!r} has {len(column)} rows, ids have {n}")
        if self.embeddings is not None and np.ndim(self.embeddings) != 2:
            raise ValueError(f"embeddings must be 2-D (n_samples, dim), got shape {np.shape(self.embeddings)}")

    def _columns(self) -> dict[str, Sequence | np.ndarray | None]:
        return {"labels": self.labels, "score": self.score, "embeddings": self.embeddings, "texts": self.texts,
                **dict(self.extra)}

    def __len__(self) -> int:
        return len(self.ids)

    def has(self, name: str) -> bool:
        """True when column ``name`` (an attribute or an extra column) is present."""
        return self._columns().get(name) is not None

    def require(self, method: str, *names: str) -> None:
        """Raise ``MissingFieldError`` naming every missing column.

        E.g. "qdit needs embeddings and a quality score; the pool has none".
        """
        missing = [FIELD_DESCRIPTIONS.get(name, f"a {name!r} column") for name in names if not self.has(name)]
        if missing:
            listed = missing[0] if len(missing) == 1 else ", ".join(missing[:-1]) + " and " + missing[-1]
            raise MissingFieldError(f"{method} needs {listed}; the pool has none")

    def column(self, name: str) -> np.ndarray:
        """An extra numeric column, or ``score``, as float64; MissingFieldError when absent."""
        value = self.score if name == "score" else self.extra.get(name)
        if value is None:
            raise MissingFieldError(f"the pool has no {name!r} column")
        return np.asarray(value, dtype=np.float64)

    def subset(self, indices: Sequence[int] | np.ndarray) -> PoolView:
        """The rows at ``indices``, in that order. A row picked again (the Duplicate control) gets the id
        ``<id>#<k>`` for its k-th repeat, so ids stay unique while the data repeats."""
        idx = np.asarray(indices, dtype=np.int64)
        pick = idx.tolist()
        seen: dict[int, int] = {}
        ids = []
        for i in pick:
            k = seen.get(i, 0)
            seen[i] = k + 1
            ids.append(self.ids[i] if k == 0 else f"{self.ids[i]}#{k}")
        return PoolView(
            ids=ids,
            labels=None if self.labels is None else [self.labels[i] for i in pick],
            score=None if self.score is None else np.asarray(self.score)[idx],
            embeddings=None if self.embeddings is None else np.asarray(self.embeddings)[idx],
            texts=None if self.texts is None else [self.texts[i] for i in pick],
            extra={k: np.asarray(v)[idx] for k, v in self.extra.items()},
            label_graph=self.label_graph,
        )


def normalize_rows(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm as float32; all-zero rows stay zero. (n, d) -> (n, d)."""
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms > 0, norms, 1.0)
