"""MIG on the official example pool (yichengchen24/MIG data/example.jsonl, 9 parseable records; line 3 is
malformed upstream) with the 4,531-tag valid vocabulary and the default offline encoder."""

import json
import logging

import numpy as np
import pytest

from selection_ops.data_model import PoolView
from selection_ops.mig.encoder import MINILM_LABEL_GRAPH_THRESHOLD
from selection_ops.mig.information import dataset_information
from selection_ops.mig.label_graph import build_label_graph, default_label_encoder
from selection_ops.mig.params import MigParams
from selection_ops.mig.reference import dense_reference_select
from selection_ops.mig.sampler import mig_select
from selection_ops.registry import measure, run_selector


def _read_records(path):
    """Our own reader: every line that parses (line 3 does not: skipped with a warning)."""
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as error:
            logging.getLogger(__name__).warning("%s line %d: skipped (%s)", path.name, number, error)
    return records


@pytest.fixture(scope="module")
def example(data_dir):
    records = _read_records(data_dir / "mig" / "example.jsonl")
    valid = json.loads((data_dir / "mig" / "valid_tag_path.json").read_text())
    labels = [r["annotation"]["instag"]["content"] for r in records]
    deita = [r["annotation"]["deita"] for r in records]
    scores = np.array([np.mean(np.multiply(d["quality_scores"], d["complexity_scores"])) for d in deita])
    pool = PoolView(ids=[r["_id"] for r in records], labels=labels, score=scores)
    encode = default_label_encoder(device="cpu")
    graph = build_label_graph(labels, encode, threshold=0.9, valid_labels=valid)
    return pool, valid, graph, encode


def test_the_example_pool_and_its_graph(example):
    pool, valid, graph, _ = example
    assert len(pool) == 9 and len(valid) == 4531
    assert graph.labels == sorted({label for labels in pool.labels for label in labels} & set(valid))
    assert np.allclose(graph.similarity.diagonal(), 1.0)
    off = graph.similarity.toarray() - np.eye(len(graph.labels))
    assert np.all((off == 0) | (off >= 0.9)) and np.allclose(off, off.T)


def test_mig_on_the_example_pool(example):
    pool, _, graph, _ = example
    picks = mig_select(pool.labels, pool.score, graph, 9)
    assert sorted(picks.tolist()) == list(range(9))
    assert np.array_equal(picks, dense_reference_select(pool.labels, pool.score, graph, 9))
    # step 1: phi'(0) is the same on every label, so the first pick has the largest total of x_i P (by hand)
    w = graph.similarity.toarray()
    p = w / w.sum(axis=0, keepdims=True)
    x = np.zeros((9, len(graph.labels)))
    for i, labels in enumerate(pool.labels):
        for label in labels:
            if label in graph.index:
                x[i, graph.index[label]] = pool.score[i]
    assert picks[0] == int(np.argmax((x @ p).sum(axis=1)))
    info = [dataset_information(pool.labels, pool.score, graph, picks[:k], MigParams()) for k in range(10)]
    assert np.all(np.diff(info) > 0)


def test_selector_and_metric_through_the_registry(example):
    pool, _, graph, encode = example
    with_graph = PoolView(ids=pool.ids, labels=pool.labels, score=pool.score, label_graph=graph)
    result = run_selector("mig", with_graph, 5, params={"gain": "exact", "phi": "exp", "phi_alpha": "0.05"})
    expected = mig_select(pool.labels, pool.score, graph, 5, MigParams(gain="exact", phi="exp", phi_alpha=0.05))
    assert result.indices.tolist() == expected.tolist()
    subset = with_graph.subset(result.indices)
    measured = measure(subset, with_graph, ["mig_information"], {"mig_information": {"phi_b": "0.5"}})
    assert measured["mig_information"] == pytest.approx(
        dataset_information(pool.labels, pool.score, graph, result.indices, MigParams(phi_b=0.5)), rel=1e-12)
    # without a graph the selector builds one over all of the pool's labels with the default encoder at its threshold
    built = build_label_graph(pool.labels, encode, threshold=MINILM_LABEL_GRAPH_THRESHOLD)
    assert run_selector("mig", pool, 9).indices.tolist() == mig_select(pool.labels, pool.score, built, 9).tolist()
