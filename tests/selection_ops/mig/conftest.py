"""Random MIG instances shared by the property tests: Zipf-like labels, a sparse random label graph."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
import scipy.sparse as sp

from selection_ops.mig.label_graph import LabelGraph


@dataclass(frozen=True)
class Instance:
    labels_per_sample: list[list[str]]
    scores: np.ndarray
    graph: LabelGraph


def graph_from_edges(labels: list[str], edges: dict[tuple[str, str], float], threshold: float) -> LabelGraph:
    """A LabelGraph from {(a, b): similarity}, both directions and a unit diagonal (test helper)."""
    index = {label: k for k, label in enumerate(labels)}
    rows, cols, vals = list(range(len(labels))), list(range(len(labels))), [1.0] * len(labels)
    for (a, b), sim in edges.items():
        rows += [index[a], index[b]]
        cols += [index[b], index[a]]
        vals += [sim, sim]
    matrix = sp.csr_matrix((vals, (rows, cols)), shape=(len(labels), len(labels)))
    matrix.sort_indices()
    return LabelGraph(sorted(labels), matrix, threshold)


def make_instance(seed: int, n: int = 120, n_labels: int = 25, empty_every: int = 17) -> Instance:
    rng = np.random.default_rng(seed)
    names = [f"l{k:03d}" for k in range(n_labels)]
    p = 1.0 / np.arange(1, n_labels + 1) ** 1.1
    p /= p.sum()
    labels = [[names[j] for j in rng.choice(n_labels, size=rng.integers(1, 6), p=p)] for _ in range(n)]
    for i in range(0, n, empty_every):
        labels[i] = []
    present = sorted({label for row in labels for label in row})
    scores = np.round(rng.uniform(0.5, 6.0, n), 1)  # rounded: many exact ties of score
    edges = {}
    for _ in range(2 * len(present)):
        a, b = rng.choice(len(present), 2, replace=False)
        a, b = sorted((int(a), int(b)))
        edges[(present[a], present[b])] = float(rng.uniform(0.85, 1.0))
    return Instance(labels, scores, graph_from_edges(present, edges, 0.85))


@pytest.fixture
def instance() -> Callable[..., Instance]:
    return make_instance
