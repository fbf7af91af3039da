import numpy as np
import pytest

from selection_ops.mig.label_graph import (
    build_label_graph,
    graph_stats,
    label_graph_from_edge_list,
    label_vocabulary,
    resolve_label_graph,
    save_edge_list,
)

POOL = [["b", "a"], ["c"], ["a", "zz-invalid"], []]


def _embeddings():
    """cos(a, b) = 0.96, cos(a, c) = 0.28, cos(b, c) = 0.0 (3-4-5 triangles, exact in float32 up to rounding)."""
    return {"a": np.array([0.28, 0.96, 0.0]), "b": np.array([0.0, 1.0, 0.0]), "c": np.array([1.0, 0.0, 0.0]),
            "zz-invalid": np.array([0.0, 0.0, 1.0])}


def test_vocabulary_is_the_sorted_labels_that_occur_filtered_to_the_valid_ones():
    assert label_vocabulary(POOL) == ["a", "b", "c", "zz-invalid"]
    assert label_vocabulary(POOL, valid_labels=["c", "a", "b", "never-used"]) == ["a", "b", "c"]


def test_build_from_embeddings_keeps_edges_at_or_above_the_threshold_and_a_unit_diagonal():
    graph = build_label_graph(POOL, _embeddings(), threshold=0.9, valid_labels=["a", "b", "c"])
    dense = graph.similarity.toarray()
    assert graph.labels == ["a", "b", "c"]
    assert np.allclose(np.diag(dense), 1.0)
    assert dense[0, 1] == pytest.approx(0.96, abs=1e-6) and dense[1, 0] == dense[0, 1]
    assert dense[0, 2] == 0 and dense[1, 2] == 0  # 0.28 and 0.0 are below 0.9
    assert graph.valid_labels == frozenset({"a", "b", "c"})
    low = build_label_graph(POOL, _embeddings(), threshold=0.25, valid_labels=["a", "b", "c"])
    assert low.similarity[0, 2] == pytest.approx(0.28, abs=1e-6)


def test_an_encode_function_is_called_with_the_sorted_vocabulary():
    seen = []

    def encode(labels):
        seen.append(list(labels))
        return np.stack([_embeddings()[label] for label in labels])

    build_label_graph(POOL, encode, threshold=0.9)
    assert seen == [["a", "b", "c", "zz-invalid"]]


def test_edge_list_threshold_is_inclusive_and_round_trips(tmp_path):
    path = tmp_path / "edges.csv"
    path.write_text("source,target,similarity\na,b,0.9\nb,a,0.9\na,c,0.899999\nc,c,1.0\nb,unknown,0.99\n")
    graph = label_graph_from_edge_list(path, POOL, threshold=0.9)
    assert graph.labels == ["a", "b", "c", "zz-invalid"]
    assert graph.similarity[0, 1] == 0.9 and graph.similarity[1, 0] == 0.9
    assert graph.similarity[0, 2] == 0
    assert graph_stats(graph) == {"n_labels": 4, "n_edges": 1, "n_isolated_labels": 2, "mean_degree": 0.5,
                                  "threshold": 0.9}
    saved = tmp_path / "saved.csv"
    save_edge_list(graph, saved)
    assert saved.read_text().splitlines() == ["source,target,similarity", "a,b,0.9"]
    again = label_graph_from_edge_list(saved, POOL, threshold=0.9)
    assert (again.similarity != graph.similarity).nnz == 0


def test_edge_list_errors(tmp_path):
    conflict = tmp_path / "conflict.csv"
    conflict.write_text("source,target,similarity\na,b,0.95\nb,a,0.91\n")
    with pytest.raises(ValueError, match="'a' - 'b' is listed with different similarities"):
        label_graph_from_edge_list(conflict, POOL, threshold=0.9)
    bad = tmp_path / "bad.csv"
    bad.write_text("source,target,similarity\na,b,high\n")
    with pytest.raises(ValueError, match="bad.csv: line 2: field 'similarity' is 'high', not a finite number"):
        label_graph_from_edge_list(bad, POOL, threshold=0.9)
    columns = tmp_path / "columns.csv"
    columns.write_text("from,to,weight\na,b,1\n")
    with pytest.raises(ValueError, match=r"columns.csv: line 1 must be the header source,target,similarity .*"
                                         r"it is 'from,to,weight'"):
        label_graph_from_edge_list(columns, POOL, threshold=0.9)
    with pytest.raises(FileNotFoundError):
        resolve_label_graph(str(tmp_path / "absent.csv"), POOL)


def test_rethreshold_up_drops_edges_and_down_raises(tmp_path):
    path = tmp_path / "edges.csv"
    path.write_text("source,target,similarity\na,b,0.95\nb,c,0.85\n")
    graph = resolve_label_graph(str(path), POOL, threshold=0.8)
    assert graph_stats(graph)["n_edges"] == 2
    higher = graph.at_threshold(0.9)
    assert graph_stats(higher)["n_edges"] == 1 and higher.similarity[0, 1] == 0.95
    assert np.allclose(higher.similarity.diagonal(), 1.0)
    with pytest.raises(ValueError, match="threshold 0.7 needs a graph built"):
        graph.at_threshold(0.7)


def test_default_encoder_embeds_related_labels_close():
    from selection_ops.mig.label_graph import default_label_encoder

    encode = default_label_encoder(device="cpu")
    embeddings = encode(["mathematics", "math", "cooking recipe"])
    assert embeddings.shape[0] == 3
    assert np.allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-5)
    assert embeddings[0] @ embeddings[1] > embeddings[0] @ embeddings[2]
