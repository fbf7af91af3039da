"""``infosift select --method mig`` end to end in a subprocess: the output order is ``mig_select``'s."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from selection_ops.mig.label_graph import label_graph_from_edge_list
from selection_ops.mig.params import MigParams
from selection_ops.mig.sampler import mig_select

INFOSIFT = Path(sys.executable).parent / "infosift"


@pytest.fixture
def tiny_pool(tmp_path):
    rng = np.random.default_rng(11)
    names = ["code", "coding", "math", "mathematics", "poetry", "rhyme", "travel", "junk"]
    rows = []
    for i in range(30):
        labels = [names[j] for j in rng.choice(len(names), size=int(rng.integers(0, 4)))]
        rows.append({"id": f"r{i:02d}", "labels": labels, "score": round(float(rng.uniform(1, 30)), 3),
                     "text": f"sample {i}"})
    pool = tmp_path / "pool.jsonl"
    pool.write_text("".join(json.dumps(row) + "\n" for row in rows))
    edges = tmp_path / "edges.csv"
    edges.write_text("source,target,similarity\ncode,coding,0.97\nmath,mathematics,0.93\npoetry,rhyme,0.91\n"
                     "coding,math,0.5\n")
    return rows, pool, edges


def _select(tmp_path, pool, edges, budget, *extra):
    if not INFOSIFT.exists():
        pytest.skip(f"the infosift entry point is not installed next to {sys.executable}")
    out = tmp_path / "out.jsonl"
    done = subprocess.run([str(INFOSIFT), "select", "--method", "mig", "--pool", str(pool), "--budget", str(budget),
                           "--out", str(out), "--label-graph", str(edges), *extra],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in out.read_text().splitlines()]


@pytest.mark.parametrize("options", [{}, {"gain": "exact", "phi": "exp", "phi_alpha": 0.1, "threshold": 0.95,
                                          "prop_weight": 0.5, "norm": True}])
def test_cli_order_is_mig_select(tmp_path, tiny_pool, options):
    rows, pool, edges = tiny_pool
    params = [arg for name, value in options.items() for arg in ("--param", f"{name}={str(value).lower()}")]
    selected = _select(tmp_path, pool, edges, 30, *params)
    labels = [row["labels"] for row in rows]
    threshold = options.get("threshold", 0.9)
    graph = label_graph_from_edge_list(edges, labels, threshold)
    expected = mig_select(labels, [row["score"] for row in rows], graph, 30, MigParams(**options))
    assert [row["id"] for row in selected] == [rows[i]["id"] for i in expected]
    assert selected[0]["text"] == rows[expected[0]]["text"]


def test_cli_with_a_valid_label_vocabulary(tmp_path, tiny_pool):
    rows, pool, edges = tiny_pool
    vocabulary = tmp_path / "valid.json"
    vocabulary.write_text(json.dumps(["code", "coding", "math", "mathematics", "poetry", "rhyme", "travel"]))
    selected = _select(tmp_path, pool, edges, 10, "--valid-labels", str(vocabulary))
    labels = [row["labels"] for row in rows]
    graph = label_graph_from_edge_list(edges, labels, 0.9, valid_labels=json.loads(vocabulary.read_text()))
    assert "junk" not in graph.labels
    expected = mig_select(labels, [row["score"] for row in rows], graph, 10)
    assert [row["id"] for row in selected] == [rows[i]["id"] for i in expected]
