"""Dataset information E(D) = sum_j phi((sum_{i in D} x_i P)_j)  (paper Eq. 8), for any subset."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from selection_ops.mig.label_graph import LabelGraph
from selection_ops.mig.params import InformationParams
from selection_ops.mig.propagation import propagation_matrix, sample_label_matrix


def information_of(labels_per_sample: Sequence[Sequence[str]], scores: Sequence[float] | np.ndarray,
                   graph: LabelGraph, params: InformationParams | None = None,
                   ids: Sequence[str] | None = None) -> float:
    """E of the multiset of all given samples (a sample listed twice contributes twice): phi summed over labels of
    z = (sum_i x_i) P, with P and x_i as in ``selection_ops.mig.propagation`` and phi(0) = 0."""
    params = params or InformationParams()
    graph = graph.at_threshold(params.threshold)
    raw_total = np.asarray(sample_label_matrix(labels_per_sample, scores, graph, params.norm, ids).sum(axis=0))
    total = raw_total.ravel() @ propagation_matrix(graph, params.prop_weight)  # z (L,) = (sum_i x_i) P
    return float(np.sum(params.phi_function().value(np.asarray(total).ravel())))


def dataset_information(labels_per_sample: Sequence[Sequence[str]], scores: Sequence[float] | np.ndarray,
                        graph: LabelGraph, subset_indices: Sequence[int] | np.ndarray,
                        params: InformationParams | None = None) -> float:
    """E(D) for D = the pool rows ``subset_indices`` (repeats count again) against the pool's label graph."""
    rows = np.asarray(subset_indices, dtype=np.int64).tolist()
    scores = np.asarray(scores, dtype=np.float64)
    return information_of([labels_per_sample[i] for i in rows], scores[rows], graph, params)
