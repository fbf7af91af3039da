"""Edge lists and model names are checked where they enter: format, delimiter, range, label matching, offline."""

import logging
import time

import pytest

from selection_ops.mig import label_graph as label_graph_module
from selection_ops.mig.label_graph import graph_stats, label_graph_from_edge_list, resolve_label_graph

POOL = [["b", "a"], ["c"], ["a", "d"], []]


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("delimiter", [",", "\t", ";", "|"])
def test_delimiter_is_detected_from_the_header(tmp_path, delimiter):
    rows = ["source", "target", "similarity"], ["a", "b", "0.95"], ["c", "d", "0.5"]
    path = _write(tmp_path / "edges.txt", "".join(delimiter.join(row) + "\n" for row in rows))
    graph = label_graph_from_edge_list(path, POOL, threshold=0.9)
    assert graph.similarity[graph.index["a"], graph.index["b"]] == 0.95
    assert graph_stats(graph)["n_edges"] == 1  # c - d is below the threshold


def test_similarity_outside_minus_one_one_is_refused_naming_the_line(tmp_path):
    path = _write(tmp_path / "e.csv", "source,target,similarity\na,b,0.5\nb,c,1.7\n")
    with pytest.raises(ValueError, match=r"e.csv: line 3: field 'similarity' is 1.7, outside \[-1, 1\]"):
        label_graph_from_edge_list(path, POOL, threshold=0.9)
    rounding = _write(tmp_path / "r.csv", "source,target,similarity\na,b,1.0000001\n")
    graph = label_graph_from_edge_list(rounding, POOL, threshold=0.9)
    assert graph.similarity[graph.index["a"], graph.index["b"]] == 1.0  # float rounding clipped, not refused


@pytest.mark.parametrize(("text", "message"), [
    ("", "empty; an edge list needs the header"),
    ("a,b,0.9\n", "line 1 must be the header source,target,similarity"),
    ("source,target,similarity\na,b,nan\n", "line 2: field 'similarity' is 'nan', not a finite number"),
    ("source,target,similarity\n,b,0.9\n", "line 2: field 'source' is empty"),
    ("source,target,similarity\na,b,0.9,extra\n", "not a comma-separated edge list"),
])
def test_malformed_edge_lists_are_named(tmp_path, text, message):
    path = _write(tmp_path / "e.csv", text)
    with pytest.raises(ValueError, match=message):
        label_graph_from_edge_list(path, POOL, threshold=0.9)


def test_unknown_labels_are_counted_named_and_stored(tmp_path, caplog):
    path = _write(tmp_path / "e.csv", "source,target,similarity\na,b,0.95\na,bb,0.99\nzz,yy,0.97\n")
    with caplog.at_level(logging.WARNING, logger="selection_ops.mig.label_graph"):
        graph = label_graph_from_edge_list(path, POOL, threshold=0.9)
    assert graph.label_match == {"edge_list_labels_matched": 2, "edge_list_labels_unknown": 3,
                                 "edge_list_edges_dropped": 2, "pool_labels_isolated": 2, "pool_labels": 4}
    assert "3 label(s) do not occur in the pool" in caplog.text and "'bb'" in caplog.text
    assert graph.at_threshold(0.96).label_match == graph.label_match


def test_no_matched_label_is_an_error(tmp_path):
    path = _write(tmp_path / "e.csv", "source,target,similarity\nx,y,0.95\n")
    with pytest.raises(ValueError, match=r"none of its 2 labels occurs among the pool's 4 labels"):
        label_graph_from_edge_list(path, POOL, threshold=0.9)


def test_unknown_model_name_fails_fast_offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    started = time.perf_counter()
    with pytest.raises(FileNotFoundError, match="'sentence-transformers/all-MiniLM-L6-v3' is not a local folder and "
                                                "not in the Hugging Face cache, and the Hub is switched off"):
        resolve_label_graph("sentence-transformers/all-MiniLM-L6-v3", POOL)
    assert time.perf_counter() - started < 10


def test_unreachable_hub_fails_fast_without_the_offline_switch(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(label_graph_module, "HUB_PROBE", ("127.0.0.1", 9))  # the discard port: refused at once
    with pytest.raises(FileNotFoundError, match="Hub cannot be reached"):
        resolve_label_graph("no-such-org/no-such-model", POOL)


def test_a_missing_local_path_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        resolve_label_graph(str(tmp_path / "models" / "encoder"), POOL)
