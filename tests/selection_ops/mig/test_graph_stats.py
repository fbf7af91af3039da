"""Label-graph connectivity statistics and the degree plot shown in the label-graph asset's metadata."""

from __future__ import annotations

import base64

import numpy as np
import pytest

from selection_ops.mig.encoder import MINILM_LABEL_GRAPH_THRESHOLD
from selection_ops.mig.graph_stats import degree_histogram_markdown, degree_statistics, label_degrees
from selection_ops.mig.label_graph import build_label_graph


def circle_graph(threshold: float):
    # labels a..e at angles 0, 10, 20, 90, 180 degrees: cos 10 deg = 0.985, cos 20 deg = 0.94, cos 70 deg = 0.34
    angles = np.deg2rad([0, 10, 20, 90, 180])
    vectors = dict(zip("abcde", np.stack([np.cos(angles), np.sin(angles)], axis=1)))
    return build_label_graph([["a", "b"], ["c"], ["d", "e"]], vectors, threshold=threshold)


def test_degrees_and_isolated_fraction() -> None:
    graph = circle_graph(0.95)  # edges a-b, b-c; d and e isolated
    assert label_degrees(graph).tolist() == [1, 2, 1, 0, 0]
    stats = degree_statistics(graph)
    assert stats["isolated_fraction"] == pytest.approx(0.4)
    assert stats["median_degree"] == 1.0 and stats["max_degree"] == 2
    looser = degree_statistics(circle_graph(0.9))  # a-c joins too
    assert looser["max_degree"] == 2 and label_degrees(circle_graph(0.9)).tolist() == [2, 2, 2, 0, 0]


def test_degree_plot_is_an_inline_png() -> None:
    markdown = degree_histogram_markdown(circle_graph(0.95))
    prefix = "![label degree distribution](data:image/png;base64,"
    assert markdown.startswith(prefix)
    png = base64.b64decode(markdown[len(prefix):-1])
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 1000


def test_minilm_threshold_joins_related_labels_that_0_9_leaves_isolated() -> None:
    """Pairs from the embedded default's vocabulary (MiniLM cosines 0.67-0.75) and unrelated ones (< 0.25)."""
    from selection_ops.mig.encoder import default_label_encoder

    related = [("peasant revolt", "uprising"), ("portuguese", "spanish"), ("guitar", "instrument"),
               ("productive", "productivity")]
    unrelated = [("guitar", "prime number"), ("recipe", "election"), ("shark", "summarize")]
    labels = [[a, b] for a, b in related + unrelated]
    encoder = default_label_encoder()
    graph = build_label_graph(labels, encoder, threshold=MINILM_LABEL_GRAPH_THRESHOLD)
    index = graph.index
    for a, b in related:
        assert graph.similarity[index[a], index[b]] > 0, (a, b)
    for a, b in unrelated:
        assert graph.similarity[index[a], index[b]] == 0, (a, b)
    assert degree_statistics(build_label_graph(labels, encoder, threshold=0.9))["isolated_fraction"] == 1.0


def test_mig_uses_the_graph_at_its_own_threshold_unless_one_is_given() -> None:
    from selection_ops.mig.information import information_of
    from selection_ops.mig.params import InformationParams

    angle = np.arccos(0.7)  # labels a and b at cosine 0.7: an edge at 0.6, none at 0.9
    vectors = {"a": np.array([1.0, 0.0]), "b": np.array([np.cos(angle), np.sin(angle)])}
    graph = build_label_graph([["a"], ["b"]], vectors, threshold=0.6)
    as_built = information_of([["a"]], [1.0], graph)
    raised = information_of([["a"]], [1.0], graph, InformationParams(threshold=0.9))
    assert InformationParams().threshold is None
    assert as_built > raised  # the 0.7 edge propagates a's information to b only in the graph as built
