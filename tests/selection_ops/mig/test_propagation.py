import dataclasses

import numpy as np
import pytest

from selection_ops.mig.propagation import propagated_information, propagation_matrix, sample_label_matrix

from .conftest import graph_from_edges


@pytest.fixture
def graph():
    return graph_from_edges(["a", "b", "c"], {("a", "b"): 0.95}, threshold=0.9)


@pytest.mark.parametrize("weight", [1.0, 0.5, 0.0])
def test_propagation_matrix_normalises_columns(graph, weight):
    s = 1 + 0.95 * weight
    expected = np.array([[1 / s, 0.95 * weight / s, 0], [0.95 * weight / s, 1 / s, 0], [0, 0, 1]])
    assert np.allclose(propagation_matrix(graph, weight).toarray(), expected, rtol=1e-14)


def test_columns_not_rows_are_normalised():
    """a-b and a-c edges: column b sums 1 + 0.95, column a sums 1 + 0.95 + 0.92 (the official code's choice)."""
    graph = graph_from_edges(["a", "b", "c"], {("a", "b"): 0.95, ("a", "c"): 0.92}, threshold=0.9)
    p = propagation_matrix(graph, 1.0).toarray()
    assert np.allclose(p.sum(axis=0), 1.0)
    assert p[0, 1] == pytest.approx(0.95 / 1.95) and p[1, 0] == pytest.approx(0.95 / 2.87)


def test_raw_information_counts_a_repeated_label_once_and_norm_divides_by_all_listed(graph):
    labels = [["a", "a", "c"], ["b"], []]
    scores = [3.0, 2.0, 5.0]
    assert np.allclose(sample_label_matrix(labels, scores, graph).toarray(), [[3, 0, 3], [0, 2, 0], [0, 0, 0]])
    assert np.allclose(sample_label_matrix(labels, scores, graph, norm=True).toarray(),
                       [[1, 0, 1], [0, 2, 0], [0, 0, 0]])


def test_propagated_information_by_hand(graph):
    v = propagated_information([["a", "a", "c"], ["b"]], [3.0, 2.0], graph, prop_weight=1.0).toarray()
    assert np.allclose(v, [[3 / 1.95, 3 * 0.95 / 1.95, 3], [2 * 0.95 / 1.95, 2 / 1.95, 0]], rtol=1e-14)


def test_labels_outside_the_valid_vocabulary_are_dropped_and_not_counted_by_norm(graph):
    valid = dataclasses.replace(graph, valid_labels=frozenset({"a", "b", "c"}))
    x = sample_label_matrix([["a", "junk", "b"]], [4.0], valid, norm=True).toarray()
    assert np.allclose(x, [[2, 2, 0]])  # 4 / 2 kept labels


def test_errors_name_the_sample(graph):
    with pytest.raises(ValueError, match=r"sample 1 \(id 'y'\): label 'zzz' \(field 'labels'\) is not in the label"):
        sample_label_matrix([["a"], ["zzz"]], [1.0, 1.0], graph, ids=["x", "y"])
    with pytest.raises(ValueError, match=r"sample 0 \(id 'x'\): field 'score' is -1.0"):
        sample_label_matrix([["a"], ["b"]], [-1.0, 1.0], graph, ids=["x", "y"])
    with pytest.raises(ValueError, match="field 'score' is nan"):
        sample_label_matrix([["a"]], [float("nan")], graph)
