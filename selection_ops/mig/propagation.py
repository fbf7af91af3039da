"""Sample information vectors and their propagation over the label graph (paper Eqs. 4-7, official code's form).

x_i (raw information, Eq. 5): x_i[label] = s_i for each label of sample i (a label listed twice counts once), or
s_i / n_i with ``norm``, where n_i counts the sample's labels with duplicates (after vocabulary filtering).

P (propagation, Eq. 6): P = diag(W) + prop_weight * offdiag(W), then each **column** divided by its sum.
The paper normalises by the source label's degree (rows of A); the official code, followed here, by the target's.

Propagated information (Eq. 7): v_i = x_i P, a row of the sparse (N, L) matrix V = X P.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from selection_ops.mig.label_graph import LabelGraph

logger = logging.getLogger(__name__)


def propagation_matrix(graph: LabelGraph, prop_weight: float) -> sp.csr_matrix:
    """P (L, L) float64 CSR: diag(W) + prop_weight * offdiag(W), each column divided by its sum (> 0: diag is 1)."""
    if prop_weight < 0:
        raise ValueError(f"prop_weight must be >= 0, got {prop_weight}")
    weights = graph.similarity.tocoo()
    data = np.where(weights.row == weights.col, weights.data, prop_weight * weights.data)
    matrix = sp.csr_matrix((data, (weights.row, weights.col)), shape=weights.shape)
    matrix.sort_indices()
    column_sum = np.bincount(matrix.indices, weights=matrix.data, minlength=matrix.shape[1])
    if np.any(column_sum <= 0):
        raise ValueError(f"label {graph.labels[int(np.flatnonzero(column_sum <= 0)[0])]!r} has no positive weight "
                         "in the propagation matrix (its diagonal must be positive)")
    matrix.data = matrix.data / column_sum[matrix.indices]
    matrix.eliminate_zeros()
    return matrix


def _record(i: int, ids: Sequence[str] | None) -> str:
    return f"sample {i}" + ("" if ids is None else f" (id {ids[i]!r})")


def sample_label_matrix(labels_per_sample: Sequence[Sequence[str]], scores: Sequence[float] | np.ndarray,
                        graph: LabelGraph, norm: bool = False, ids: Sequence[str] | None = None) -> sp.csr_matrix:
    """X (N, L) float64 CSR of raw information: X[i, label] = s_i, or s_i / n_i with ``norm`` (Eq. 5).

    Labels outside the graph's valid-label vocabulary are dropped (as the official loader does); any other label
    that is not a node of the graph is an error naming the sample. Scores must be finite and >= 0 (the lazy
    greedy relies on x_i P >= 0).
    """
    n = len(labels_per_sample)
    scores = np.asarray(scores, dtype=np.float64)
    if scores.shape != (n,):
        raise ValueError(f"scores has shape {scores.shape}, expected ({n},) to match the labels")
    bad = np.flatnonzero(~np.isfinite(scores) | (scores < 0))
    if len(bad):
        raise ValueError(f"{_record(int(bad[0]), ids)}: field 'score' is {scores[bad[0]]!r}; MIG needs a finite "
                         "score >= 0")
    counts = np.array(list(map(len, labels_per_sample)), dtype=np.int64).reshape(n)
    index = graph.index
    codes = np.fromiter((index.get(label, -1) for labels in labels_per_sample for label in labels), dtype=np.int64,
                        count=int(counts.sum()))
    rows = np.repeat(np.arange(n), counts)
    unknown = np.flatnonzero(codes < 0)
    if len(unknown):
        flat = [label for labels in labels_per_sample for label in labels]
        outside = [graph.valid_labels is not None and flat[k] not in graph.valid_labels for k in unknown.tolist()]
        if not all(outside):
            k = int(unknown[outside.index(False)])
            raise ValueError(f"{_record(int(rows[k]), ids)}: label {flat[k]!r} (field 'labels') is not in the label "
                             f"graph ({len(graph.labels)} labels); build the graph from this pool")
        logger.debug("dropped %d labels outside the valid-label vocabulary", len(unknown))
        known = codes >= 0
        rows, codes = rows[known], codes[known]
    per_sample = np.bincount(rows, minlength=n)  # labels kept per sample, duplicates counted (norm's n_i)
    value = scores / np.maximum(per_sample, 1) if norm else scores
    n_labels = len(graph.labels)
    entries = np.unique(rows * n_labels + codes)  # a label listed twice is one entry, holding the value once
    rows, columns = np.divmod(entries, n_labels)
    matrix = sp.csr_matrix((value[rows], columns, np.r_[0, np.cumsum(np.bincount(rows, minlength=n))]),
                           shape=(n, n_labels))
    matrix.eliminate_zeros()
    return matrix


def propagated_information(labels_per_sample: Sequence[Sequence[str]], scores: Sequence[float] | np.ndarray,
                           graph: LabelGraph, prop_weight: float = 1.0, norm: bool = False,
                           ids: Sequence[str] | None = None) -> sp.csr_matrix:
    """V = X P (N, L) float64 CSR: row i is sample i's propagated information (Eq. 7).

    Column indices within a row stay in the (deterministic) order of the sparse product; no path needs them sorted.
    """
    information = sample_label_matrix(labels_per_sample, scores, graph, norm, ids) @ propagation_matrix(graph,
                                                                                                      prop_weight)
    information = sp.csr_matrix(information)
    information.eliminate_zeros()
    return information
