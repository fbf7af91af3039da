"""The label graph of MIG (paper Sec. 3.1; Appx. A.2): labels are nodes, similar labels are joined by weighted edges.

Labels are the sorted set of labels that occur in the pool, after filtering to a valid-label vocabulary when one is
given (as the official ``mig sample --valid_tag_path``). An edge joins two labels whose normalised embeddings have a
cosine similarity >= ``threshold`` (inclusive); its weight is that similarity. The diagonal is kept and set to 1
(the cosine of a normalised vector with itself; the official code keeps the computed value, 1 up to rounding).

A graph keeps every raw similarity at or above the threshold it was built with, so one graph serves any higher
threshold (``LabelGraph.at_threshold``); a lower one needs a rebuild and raises.
"""

from __future__ import annotations

import csv
import functools
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from selection_ops.mig.encoder import default_label_encoder, sentence_transformer_encoder

__all__ = ["LabelGraph", "build_label_graph", "default_label_encoder", "graph_stats", "label_graph_from_edge_list",
           "label_vocabulary", "resolve_label_graph", "save_edge_list"]

logger = logging.getLogger(__name__)

_SIMILARITY_BLOCK = 2048  # rows of the (L, L) cosine matrix computed at a time


@dataclass(frozen=True, eq=False)
class LabelGraph:
    """Thresholded label similarity.

    labels:       (L,) sorted, unique label strings; row/column k of ``similarity`` is ``labels[k]``.
    similarity:   (L, L) float64 CSR, symmetric; off-diagonal entries are cosine similarities >= ``threshold``,
                  the diagonal is 1.
    threshold:    the lowest similarity kept (inclusive).
    valid_labels: the vocabulary the labels were filtered to, or None. Sample labels outside it are dropped when
                  samples are vectorised; labels in it (or any label, when None) must be nodes of the graph.
    """

    labels: list[str]
    similarity: sp.csr_matrix
    threshold: float
    valid_labels: frozenset[str] | None = None

    def __post_init__(self) -> None:
        n = len(self.labels)
        if self.similarity.shape != (n, n):
            raise ValueError(f"label similarity has shape {self.similarity.shape}, expected ({n}, {n})")
        if any(a >= b for a, b in zip(self.labels, self.labels[1:])):
            raise ValueError("label graph labels must be sorted and unique")

    @functools.cached_property
    def index(self) -> dict[str, int]:
        """label -> row of ``similarity``."""
        return {label: k for k, label in enumerate(self.labels)}

    def at_threshold(self, threshold: float | None) -> LabelGraph:
        """The graph with only the edges of similarity >= ``threshold`` (None: as built); raises if below the built
        threshold."""
        if threshold is None or threshold == self.threshold:
            return self
        if threshold < self.threshold:
            raise ValueError(f"the label graph keeps similarities >= {self.threshold} only; threshold {threshold} "
                             f"needs a graph built (or an edge list read) at {threshold} or lower")
        coo = self.similarity.tocoo()
        keep = (coo.row == coo.col) | (coo.data >= threshold)
        similarity = sp.csr_matrix((coo.data[keep], (coo.row[keep], coo.col[keep])), shape=coo.shape)
        return LabelGraph(self.labels, similarity, threshold, self.valid_labels)


def label_vocabulary(labels_per_sample: Iterable[Sequence[str]],
                     valid_labels: Iterable[str] | None = None) -> list[str]:
    """The sorted set of labels occurring in the pool, restricted to ``valid_labels`` when given."""
    occurring = {label for labels in labels_per_sample for label in labels}
    if valid_labels is not None:
        occurring &= set(valid_labels)
    return sorted(occurring)


def _graph_from_pairs(labels: list[str], rows: np.ndarray, cols: np.ndarray, similarity: np.ndarray,
                      threshold: float, valid_labels: Iterable[str] | None) -> LabelGraph:
    """Symmetric CSR from undirected pairs (rows[k] < cols[k]) with the diagonal set to 1."""
    n = len(labels)
    keep = similarity >= threshold
    rows, cols, similarity = rows[keep], cols[keep], similarity[keep].astype(np.float64)
    diagonal = np.arange(n)
    matrix = sp.csr_matrix((np.concatenate([similarity, similarity, np.ones(n)]),
                            (np.concatenate([rows, cols, diagonal]), np.concatenate([cols, rows, diagonal]))),
                           shape=(n, n))
    matrix.sort_indices()
    return LabelGraph(labels, matrix, float(threshold), None if valid_labels is None else frozenset(valid_labels))


def _embedding_matrix(labels: list[str], encode: Callable[[list[str]], np.ndarray] | Mapping[str, np.ndarray]
                      ) -> np.ndarray:
    """(L, d) float32 L2-normalised embeddings of ``labels`` from an encode function or a label -> vector mapping."""
    if callable(encode):
        embeddings = np.asarray(encode(labels), dtype=np.float32)
    else:
        missing = [label for label in labels if label not in encode]
        if missing:
            raise KeyError(f"label embeddings lack {len(missing)} label(s), e.g. {missing[:5]}")
        embeddings = np.stack([np.asarray(encode[label], dtype=np.float32) for label in labels]) if labels else \
            np.zeros((0, 1), dtype=np.float32)
    if embeddings.ndim != 2 or embeddings.shape[0] != len(labels):
        raise ValueError(f"the label encoder returned shape {embeddings.shape} for {len(labels)} labels")
    norms = np.linalg.norm(embeddings, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError(f"label {labels[int(np.flatnonzero(norms.ravel() == 0)[0])]!r} has a zero embedding")
    return embeddings / norms


def build_label_graph(labels_per_sample: Iterable[Sequence[str]],
                      encode: Callable[[list[str]], np.ndarray] | Mapping[str, np.ndarray],
                      threshold: float = 0.9, valid_labels: Iterable[str] | None = None) -> LabelGraph:
    """Label graph from embeddings: edge (p, q) with weight cos(e_p, e_q) when >= ``threshold``.

    encode: a function labels (L,) -> embeddings (L, d) (e.g. ``default_label_encoder()``), or a mapping
            label -> embedding (d,). Embeddings are L2-normalised here; the cosine matrix is computed in float32
            blocks of rows, as the official code does on the GPU.
    """
    valid = None if valid_labels is None else frozenset(valid_labels)
    labels = label_vocabulary(labels_per_sample, valid)
    logger.info("building the label graph of %d labels at threshold %s", len(labels), threshold)
    if not labels:
        logger.warning("no sample has a (valid) label: the label graph is empty and every MIG gain is 0")
        empty = np.zeros(0, dtype=np.int64)
        return _graph_from_pairs(labels, empty, empty, np.zeros(0), threshold, valid)
    embeddings = _embedding_matrix(labels, encode)
    rows, cols, sims = [], [], []
    for start in range(0, len(labels), _SIMILARITY_BLOCK):
        block = embeddings[start:start + _SIMILARITY_BLOCK] @ embeddings.T  # (block, L)
        r, c = np.nonzero(block >= threshold)
        upper = c > r + start  # each undirected pair once, from its upper triangle, so the matrix is symmetric
        rows.append(r[upper] + start)
        cols.append(c[upper])
        sims.append(block[r[upper], c[upper]])
    empty = np.zeros(0, dtype=np.int64)
    return _graph_from_pairs(labels, np.concatenate(rows) if rows else empty, np.concatenate(cols) if cols else empty,
                             np.concatenate(sims) if sims else np.zeros(0), threshold, valid)


def label_graph_from_edge_list(path_csv: str | Path, labels_per_sample: Iterable[Sequence[str]], threshold: float,
                               valid_labels: Iterable[str] | None = None) -> LabelGraph:
    """Label graph from a CSV ``source,target,similarity`` (an undirected edge may be listed once or both ways).

    Nodes are the pool's labels (``label_vocabulary``); edges touching other labels, self-loops and similarities
    below ``threshold`` are ignored. A pair listed both ways with different similarities is an error.
    """
    path = Path(path_csv)
    valid = None if valid_labels is None else frozenset(valid_labels)
    labels = label_vocabulary(labels_per_sample, valid)
    table = pd.read_csv(path, dtype={"source": str, "target": str}, keep_default_na=False, na_filter=False)
    missing = {"source", "target", "similarity"} - set(table.columns)
    if missing:
        raise ValueError(f"{path}: edge list needs columns source,target,similarity; missing {sorted(missing)}")
    similarity = pd.to_numeric(table["similarity"], errors="coerce").to_numpy(np.float64)
    bad = np.flatnonzero(~np.isfinite(similarity))
    if len(bad):
        raise ValueError(f"{path}: row {int(bad[0]) + 2}: similarity {table['similarity'].iloc[bad[0]]!r} "
                         "is not a finite number")
    node = pd.Index(labels)
    source, target = node.get_indexer(table["source"]), node.get_indexer(table["target"])
    keep = (source >= 0) & (target >= 0) & (source != target)
    source, target, similarity = source[keep], target[keep], similarity[keep]
    low, high = np.minimum(source, target), np.maximum(source, target)
    pairs = pd.DataFrame({"low": low, "high": high, "similarity": similarity})
    spread = pairs.groupby(["low", "high"], sort=True)["similarity"].agg(["min", "max"])
    conflict = spread[spread["max"] - spread["min"] > 1e-6]
    if len(conflict):
        (p, q), row = next(iter(conflict.iterrows()))
        raise ValueError(f"{path}: edge {labels[p]!r} - {labels[q]!r} is listed with different similarities "
                         f"({row['min']} and {row['max']}); the edge list must be symmetric")
    logger.info("read %d label-graph edges among %d labels from %s", len(spread), len(labels), path)
    return _graph_from_pairs(labels, spread.index.get_level_values(0).to_numpy(np.int64),
                             spread.index.get_level_values(1).to_numpy(np.int64), spread["max"].to_numpy(np.float64),
                             threshold, valid)


def save_edge_list(graph: LabelGraph, path: str | Path) -> None:
    """Write the graph's edges as CSV ``source,target,similarity``, each undirected edge once (source < target)."""
    upper = sp.triu(graph.similarity, k=1).tocoo()
    order = np.lexsort((upper.col, upper.row))
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["source", "target", "similarity"])
        for k in order.tolist():
            writer.writerow([graph.labels[upper.row[k]], graph.labels[upper.col[k]], repr(float(upper.data[k]))])


def resolve_label_graph(spec: str, labels_per_sample: Sequence[Sequence[str]], threshold: float = 0.9,
                        valid_labels: Iterable[str] | None = None) -> LabelGraph:
    """The label graph named by ``spec``: an existing ``.csv`` edge list, else a sentence-transformers model
    (folder or cached name) used to embed the pool's labels."""
    if str(spec).lower().endswith(".csv"):
        if not Path(spec).is_file():
            raise FileNotFoundError(f"label graph edge list {spec} does not exist")
        return label_graph_from_edge_list(spec, labels_per_sample, threshold, valid_labels)
    return build_label_graph(labels_per_sample, sentence_transformer_encoder(spec), threshold, valid_labels)


def graph_stats(graph: LabelGraph) -> dict[str, float | int]:
    """Counts for run metadata: labels, undirected edges (diagonal excluded), isolated labels, threshold."""
    off_diagonal = graph.similarity - sp.diags(graph.similarity.diagonal())
    off_diagonal.eliminate_zeros()
    degree = np.diff(off_diagonal.tocsr().indptr)
    return {"n_labels": len(graph.labels), "n_edges": int(off_diagonal.nnz // 2),
            "n_isolated_labels": int(np.count_nonzero(degree == 0)),
            "mean_degree": float(degree.mean()) if len(degree) else 0.0, "threshold": float(graph.threshold)}
