"""The ``infosift`` console script: select, measure, list; errors as one line and exit code 2.

A few runs go through the installed script in a subprocess (the real entry point); the rest call ``main(argv)``
in-process so they can register a test selector / metric and stay fast.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from selection_ops import registry
from selection_ops.cli import main

SCRIPT = Path(sys.executable).parent / "infosift"


def _pool(path: Path, n: int = 40, *, embeddings: bool = True) -> Path:
    rng = np.random.default_rng(0)
    rows = []
    for i in range(n):
        row = {"id": f"s{i:03d}", "labels": [f"t{i % 5}"], "score": float(i % 7),
               "messages": [{"role": "user", "content": f"question {i}"},
                            {"role": "assistant", "content": f"answer {i}"}]}
        if embeddings:
            row["embedding"] = rng.normal(size=4).round(4).tolist()
        rows.append(row)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _run(*args: str) -> subprocess.CompletedProcess:
    if not SCRIPT.exists():
        pytest.skip(f"console script not installed at {SCRIPT}")
    return subprocess.run([str(SCRIPT), *args], check=False, capture_output=True, text=True, timeout=300)


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_select_random_end_to_end(tmp_path):
    pool = _pool(tmp_path / "pool.jsonl")
    outs = [tmp_path / name for name in ("a.jsonl", "b.jsonl", "c.jsonl")]
    for out, seed in zip(outs, ("3", "3", "4")):
        done = _run("select", "--method", "random", "--pool", str(pool), "--budget", "10", "--out", str(out),
                    "--seed", seed)
        assert done.returncode == 0, done.stderr
    first, again, other = (_lines(out) for out in outs)
    pool_ids = {r["id"] for r in _lines(pool)}
    assert len(first) == 10 and len({r["id"] for r in first}) == 10 and {r["id"] for r in first} <= pool_ids
    assert first == again  # same seed, same selection, same order
    assert [r["id"] for r in other] != [r["id"] for r in first]
    # the full record minus its embedding
    assert all("embedding" not in r and r["messages"][0]["role"] == "user" for r in first)
    assert "random selected 10 of 40" in done.stderr  # progress logging on stderr


def test_missing_field_is_one_line_and_exit_2(tmp_path):
    pool = _pool(tmp_path / "pool.jsonl", embeddings=False)
    done = _run("select", "--method", "kcenter", "--pool", str(pool), "--budget", "3", "--out",
                str(tmp_path / "o.jsonl"))
    assert done.returncode == 2
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("infosift: error: kcenter needs embeddings; the pool has none")
    assert "pass --embeddings FILE" in last and "infosift embed --pool POOL --out EMB.npz" in last
    assert "Traceback" not in done.stderr and not (tmp_path / "o.jsonl").exists()


def test_keep_embeddings_and_added_id(tmp_path, capsys):
    pool = _pool(tmp_path / "pool.jsonl")
    assert main(["select", "--method", "random", "--pool", str(pool), "--budget", "2", "--out",
                 str(tmp_path / "o.jsonl"), "--keep-embeddings"]) == 0
    assert all(len(r["embedding"]) == 4 for r in _lines(tmp_path / "o.jsonl"))
    renamed = tmp_path / "renamed.jsonl"
    renamed.write_text("".join(json.dumps({"key": r["id"], "text": "t"}) + "\n" for r in _lines(pool)))
    assert main(["select", "--method", "random", "--pool", str(renamed), "--id-field", "key", "--budget", "3",
                 "--out", str(tmp_path / "o2.jsonl")]) == 0
    out = _lines(tmp_path / "o2.jsonl")
    assert all(r["id"] == r["key"] for r in out) and list(out[0]) == ["id", "key", "text"]


@pytest.mark.parametrize(("argv", "message"), [
    (["--method", "nope"], "infosift: error: unknown selector 'nope'; known:"),
    (["--method", "random", "--budget", "99"],
     "infosift: error: random: budget 99 is larger than the pool (40 samples)"),
    (["--method", "random", "--param", "x=1"], "infosift: error: random: unknown parameter(s) ['x']"),
    (["--method", "random", "--param", "oops"], "infosift: error: --param 'oops' must look like name=value"),
])
def test_select_user_errors(tmp_path, capsys, argv, message):
    pool = _pool(tmp_path / "pool.jsonl")
    base = ["select", "--pool", str(pool), "--out", str(tmp_path / "o.jsonl")]
    if "--budget" not in argv:
        base += ["--budget", "3"]
    assert main(base + argv) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith(message)


def test_malformed_pool_and_skip(tmp_path, capsys):
    pool = tmp_path / "pool.jsonl"
    pool.write_text('{"id": "a", "score": 1}\n{"id": "b", "score": "high"}\n{"id": "c", "score": 2}\n')
    argv = ["select", "--method", "random", "--pool", str(pool), "--budget", "2", "--out", str(tmp_path / "o.jsonl")]
    assert main(argv) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "infosift: error: pool.jsonl: line 2: field 'score' must be a number, got string")
    assert main(argv + ["--on-error", "skip"]) == 0
    assert sorted(r["id"] for r in _lines(tmp_path / "o.jsonl")) == ["a", "c"]


def test_mig_example_pool(data_dir, tmp_path):
    out = tmp_path / "o.jsonl"
    assert main(["select", "--method", "random", "--pool", str(data_dir / "mig" / "example.jsonl"), "--budget", "9",
                 "--out", str(out), "--on-error", "skip"]) == 0
    records = _lines(out)
    assert len(records) == 9 and all(r["id"] == r["_id"] for r in records)


# ------------------------------------------------------------------------------------- label graph wiring


@dataclass(frozen=True)
class _GraphProbeParams:
    threshold: float = field(default=0.9, metadata={"help": "label graph threshold"})


@pytest.fixture
def graph_probe(monkeypatch):
    """A test selector that records the label graph it was given, and a stand-in resolve_label_graph."""
    seen: dict = {}

    def select(pool, budget, seed, params):
        seen["graph"] = pool.label_graph
        return np.arange(budget)

    monkeypatch.setitem(registry.SELECTORS, "graph_probe",
                        registry.SelectorSpec("graph_probe", select, _GraphProbeParams, ("labels",), "probe"))

    def resolve_label_graph(spec, labels_per_sample, threshold=0.9, valid_labels=None):
        seen["call"] = (spec, [list(x) for x in labels_per_sample], threshold, valid_labels)
        return "GRAPH"

    from selection_ops.mig import label_graph

    monkeypatch.setattr(label_graph, "resolve_label_graph", resolve_label_graph)
    return seen


def test_label_graph_is_resolved_and_attached(tmp_path, graph_probe):
    pool = _pool(tmp_path / "pool.jsonl", n=6)
    vocabulary = tmp_path / "valid.json"
    vocabulary.write_text(json.dumps(["t0", "t1"]))
    edges = tmp_path / "edges.csv"
    edges.write_text("source,target,similarity\nt0,t1,0.95\n")
    assert main(["select", "--method", "graph_probe", "--pool", str(pool), "--budget", "2", "--out",
                 str(tmp_path / "o.jsonl"), "--label-graph", str(edges), "--valid-labels", str(vocabulary),
                 "--param", "threshold=0.8"]) == 0
    spec, labels, threshold, valid = graph_probe["call"]
    assert (spec, threshold, valid) == (str(edges), 0.8, ["t0", "t1"])
    assert labels == [[f"t{i % 5}"] for i in range(6)]
    assert graph_probe["graph"] == "GRAPH"
    # default threshold, vocabulary as one label per line
    vocabulary_txt = tmp_path / "valid.txt"
    vocabulary_txt.write_text("t0\n\nt3\n")
    assert main(["select", "--method", "graph_probe", "--pool", str(pool), "--budget", "2", "--out",
                 str(tmp_path / "o.jsonl"), "--label-graph", str(edges), "--valid-labels", str(vocabulary_txt)]) == 0
    assert graph_probe["call"][2:] == (0.9, ["t0", "t3"])


# ------------------------------------------------------------------------------------------------ measure


@dataclass(frozen=True)
class _OffsetParams:
    offset: float = field(default=0.0, metadata={"help": "added to the result"})


@pytest.fixture
def mean_score_metric(monkeypatch):
    def compute(subset, pool, params):
        return float(np.mean(subset.score)) / float(np.mean(pool.score)) + params.offset

    monkeypatch.setitem(registry.METRICS, "test_score_ratio",
                        registry.MetricSpec("test_score_ratio", compute, _OffsetParams, ("score",), "ratio", True))


def test_measure_with_a_registered_metric(tmp_path, capsys, mean_score_metric):
    pool = _pool(tmp_path / "pool.jsonl", n=7)  # scores 0..6, mean 3
    subset = tmp_path / "subset.jsonl"
    subset.write_text("".join(json.dumps({"id": i}) + "\n" for i in ("s006", "s005", "s006")))
    out = tmp_path / "m" / "metrics.json"
    assert main(["measure", "--pool", str(pool), "--subset", str(subset), "--metrics", "test_score_ratio",
                 "--param", "test_score_ratio.offset=1", "--out", str(out)]) == 0
    expected = (6 + 5 + 6) / 3 / 3 + 1
    report = json.loads(out.read_text())
    assert report["metrics"]["test_score_ratio"] == pytest.approx(expected)
    assert report["n_subset"] == 3 and report["n_pool"] == 7
    printed = capsys.readouterr().out
    assert "test_score_ratio" in printed and f"{expected:.6g}" in printed


def test_measure_unknown_ids_are_named(tmp_path, capsys, mean_score_metric):
    pool = _pool(tmp_path / "pool.jsonl", n=7)
    subset = tmp_path / "subset.jsonl"
    subset.write_text("".join(json.dumps({"id": i}) + "\n" for i in ("s001", "zz1", "zz2", "zz1")))
    assert main(["measure", "--pool", str(pool), "--subset", str(subset), "--metrics", "test_score_ratio"]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "infosift: error: subset.jsonl: 2 id(s) not in the pool: 'zz1', 'zz2'")
    assert main(["measure", "--pool", str(pool), "--subset", str(subset), "--metrics", "nope"]) == 2
    assert "unknown metric 'nope'" in capsys.readouterr().err


def test_measure_builtin_metric_end_to_end(tmp_path):
    if "distsum_cosine" not in registry.metric_names():
        pytest.skip("distsum_cosine is not registered yet")
    pool = tmp_path / "pool.jsonl"
    vectors = {"a": [1.0, 0.0], "b": [0.0, 2.0], "c": [-3.0, 0.0]}
    pool.write_text("".join(json.dumps({"id": k, "embedding": v}) + "\n" for k, v in vectors.items()))
    subset = tmp_path / "subset.jsonl"
    subset.write_text('{"id": "a"}\n{"id": "b"}\n')
    out = tmp_path / "m.json"
    done = _run("measure", "--pool", str(pool), "--subset", str(subset), "--metrics", "distsum_cosine", "--out",
                str(out))
    assert done.returncode == 0, done.stderr
    # orthogonal pair: cosine distance 1 (Eq. 1 averages over ordered pairs i != j)
    assert json.loads(out.read_text())["metrics"]["distsum_cosine"] == pytest.approx(1.0)
    assert "distsum_cosine" in done.stdout


def test_list_shows_selectors_metrics_and_params(capsys, mean_score_metric):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "  random: " in out
    assert "test_score_ratio [needs: score, reference pool]: ratio" in out
    assert "offset (float, default 0.0): added to the result" in out


def test_mig_with_an_edge_list_graph(tmp_path):
    """Disjoint labels and no edge above the threshold: P is the identity, so MIG's gains are the scores and the
    picks come in descending score order (hand-checked)."""
    if "mig" not in registry.selector_names():
        pytest.skip("the mig selector is not registered yet")
    pool = tmp_path / "pool.jsonl"
    rows = [{"id": "s0", "labels": ["a"], "score": 1.0}, {"id": "s1", "labels": ["b"], "score": 3.0},
            {"id": "s2", "labels": ["c"], "score": 2.0}]
    pool.write_text("".join(json.dumps(r) + "\n" for r in rows))
    edges = tmp_path / "edges.csv"
    edges.write_text("source,target,similarity\na,b,0.5\nb,c,0.6\n")
    out = tmp_path / "o.jsonl"
    assert main(["select", "--method", "mig", "--pool", str(pool), "--budget", "3", "--out", str(out),
                 "--label-graph", str(edges), "--param", "threshold=0.9"]) == 0
    assert [r["id"] for r in _lines(out)] == ["s1", "s2", "s0"]
