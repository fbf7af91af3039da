"""What `infosift` refuses, and that refusing costs no data: outputs, numbers, encodings, ids, Ctrl-C, kill -9.

Subprocess tests run the real entry point (``python -m selection_ops.cli``) so signals reach a real process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from selection_ops.cli import build_parser, main
from selection_ops.pool import PoolSource, PoolSpec, content_id, load_pool

HI = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]


def _messages(i: int) -> list[dict]:
    return [{"role": "user", "content": f"question {i}"}, {"role": "assistant", "content": f"answer {i}"}]


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def _pool(path: Path, n: int = 30, *, ids: bool = True, embeddings: bool = True) -> Path:
    rng = np.random.default_rng(1)
    rows = []
    for i in range(n):
        row = {"id": f"s{i:03d}"} if ids else {}
        row.update({"labels": [f"t{i % 4}"], "score": float(1 + i % 5), "messages": _messages(i)})
        if embeddings:
            row["embedding"] = rng.normal(size=4).round(4).tolist()
        rows.append(row)
    return _jsonl(path, rows)


def _error(capsys) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines and lines[-1].startswith("infosift: error: ")
    return lines[-1].removeprefix("infosift: error: ")


def _cli(*args: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    return subprocess.Popen([sys.executable, "-m", "selection_ops.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, **kwargs)


# ------------------------------------------------------------------------------------------------ outputs


def test_output_equal_to_the_pool_is_refused_and_the_pool_is_unchanged(tmp_path, capsys):
    pool = _pool(tmp_path / "pool.jsonl")
    before = pool.read_bytes()
    for out in (str(pool), str(tmp_path / "." / "pool.jsonl")):
        assert main(["select", "--method", "random", "--pool", str(pool), "--budget", "3", "--out", out]) == 2
        assert "is also an input" in _error(capsys) and pool.read_bytes() == before
    link = tmp_path / "link.jsonl"
    link.symlink_to(pool)
    assert main(["select", "--method", "random", "--pool", str(pool), "--budget", "3", "--out", str(link)]) == 2
    assert "is also an input" in _error(capsys) and pool.read_bytes() == before


def test_measure_output_equal_to_the_subset_is_refused(tmp_path, capsys):
    pool = _pool(tmp_path / "pool.jsonl")
    subset = _jsonl(tmp_path / "subset.jsonl", [{"id": "s001"}, {"id": "s002"}])
    before = subset.read_bytes()
    assert main(["measure", "--pool", str(pool), "--subset", str(subset), "--metrics", "distsum_cosine", "--out",
                 str(subset)]) == 2
    assert "is also an input" in _error(capsys) and subset.read_bytes() == before


@pytest.mark.parametrize("kind", ["folder", "under a file"])
def test_unwritable_output_is_found_before_the_computation(tmp_path, capsys, kind):
    pool = _pool(tmp_path / "pool.jsonl")
    out = tmp_path if kind == "folder" else pool / "out.jsonl"
    assert main(["select", "--method", "kcenter", "--pool", str(pool), "--budget", "3", "--out", str(out)]) == 2
    captured = capsys.readouterr().err
    assert "kcenter selected" not in captured and "loaded" not in captured  # nothing was computed
    assert ("is a directory" if kind == "folder" else "cannot create its folder") in captured


def test_kill_9_during_a_large_select_leaves_the_previous_output_intact(tmp_path):
    """The process is killed once its temporary output exists (mid-write): the previous output is untouched."""
    rows = [{"id": f"r{i}", "text": f"{i} " + "x" * 2000, "messages": _messages(i)} for i in range(30000)]
    pool = _jsonl(tmp_path / "pool.jsonl", rows)
    out = tmp_path / "picked.jsonl"
    out.write_text('{"id": "previous"}\n', encoding="utf-8")
    previous = out.read_bytes()
    process = _cli("-q", "select", "--method", "random", "--pool", str(pool), "--budget", "30000", "--out", str(out))
    deadline = time.monotonic() + 240
    try:
        while not list(tmp_path.glob(".picked.jsonl.*.tmp")):
            assert process.poll() is None, f"select ended before it was killed: {process.stderr.read()}"
            assert time.monotonic() < deadline
            time.sleep(0.002)
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == -signal.SIGKILL
    assert out.read_bytes() == previous


def test_ctrl_c_is_one_line_exit_130_and_no_output(tmp_path):
    rows = [{"id": f"r{i}", "text": "y" * 500, "messages": _messages(i)} for i in range(60000)]
    pool = _jsonl(tmp_path / "pool.jsonl", rows)
    out = tmp_path / "picked.jsonl"
    process = _cli("select", "--method", "random", "--pool", str(pool), "--budget", "10", "--out", str(out))
    for line in process.stderr:  # INFO log "reading <pool>" comes once the handler is in place and work started
        if "reading" in line:
            break
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    # under heavy load the read may finish first: then the run is a clean exit 0 with its output, not a failure
    # of the interrupt path; say so instead of failing on a race the test cannot control
    if process.returncode == 0 and out.exists():
        pytest.skip("the selection finished before SIGINT arrived (machine under load); nothing to interrupt")
    assert process.returncode == 130, (process.returncode, stderr[-2000:])
    assert stderr.strip().splitlines() == ["infosift: interrupted; no output written"], stderr[-2000:]
    assert not out.exists() and not list(tmp_path.glob(".picked.jsonl.*"))


# ------------------------------------------------------------------------------------------------ numbers


@pytest.mark.parametrize(("bad", "problem"), [
    (np.nan, "has a non-finite value (nan) at dimension 2"),
    (0.0, "is all zeros (4 dimensions): cosine similarity to it is undefined"),
])
def test_invalid_embedding_rows_are_named_or_dropped_with_a_count(tmp_path, capsys, caplog, bad, problem):
    pool = _pool(tmp_path / "pool.jsonl", n=10, embeddings=False)
    matrix = np.random.default_rng(0).normal(size=(10, 4)).astype(np.float32)
    if np.isnan(bad):
        matrix[6, 2] = bad
    else:
        matrix[6] = 0.0
    np.savez(tmp_path / "e.npz", ids=np.array([f"s{i:03d}" for i in range(10)]), embeddings=matrix)
    args = ["select", "--method", "kcenter", "--pool", str(pool), "--budget", "9", "--embeddings",
            str(tmp_path / "e.npz"), "--out", str(tmp_path / "o.jsonl")]
    assert main(args) == 2
    assert _error(capsys) == f"e.npz: row 6 (id 's006'): field 'embeddings' {problem}"
    assert main([*args, "--on-error", "skip"]) == 0
    assert "left out 1 record(s) (1 for field 'embeddings'); 9 kept" in caplog.text
    picked = [json.loads(line)["id"] for line in (tmp_path / "o.jsonl").read_text().splitlines()]
    assert sorted(picked) == [f"s{i:03d}" for i in range(10) if i != 6]


def test_all_zero_embedding_field_names_the_line(tmp_path, capsys):
    pool = _jsonl(tmp_path / "p.jsonl", [{"id": "a", "embedding": [1, 0], "messages": HI},
                                         {"id": "b", "embedding": [0, 0.0], "messages": HI}])
    assert main(["select", "--method", "kcenter", "--pool", str(pool), "--budget", "1", "--out",
                 str(tmp_path / "o.jsonl")]) == 2
    assert _error(capsys).startswith("p.jsonl: line 2: field 'embedding' is all zeros")


def test_score_outside_the_declared_range(tmp_path, capsys, caplog):
    pool = _pool(tmp_path / "pool.jsonl", n=6)
    args = ["select", "--method", "random", "--pool", str(pool), "--budget", "2", "--out", str(tmp_path / "o.jsonl"),
            "--score-range", "1,4"]
    assert main(args) == 2
    assert _error(capsys) == "pool.jsonl: line 5: field 'score' is 5, outside the declared range [1, 4]"
    assert main([*args, "--on-error", "skip"]) == 0
    assert "left out 1 record(s) (1 for field 'score'); 5 kept" in caplog.text
    assert main([*args[:-1], "4,1"]) == 2 and "LOW <= HIGH" in _error(capsys)


# ------------------------------------------------------------------------------------------------ encodings


def test_undecodable_bytes_name_file_and_line_and_can_be_skipped_or_decoded(tmp_path, capsys, caplog):
    rows = [json.dumps({"id": f"r{i}", "text": "caf\u00e9", "messages": HI}, ensure_ascii=False) for i in range(4)]
    path = tmp_path / "latin.jsonl"
    path.write_bytes(("\n".join(rows[:2]) + "\n").encode("utf-8") + (rows[2] + "\n").encode("latin-1")
                     + (rows[3] + "\n").encode("utf-8"))
    args = ["select", "--method", "random", "--pool", str(path), "--budget", "3", "--out", str(tmp_path / "o.jsonl")]
    assert main(args) == 2
    assert _error(capsys).startswith("latin.jsonl: line 3: is not valid utf-8 (byte 0xe9 at column 26)")
    assert main([*args, "--on-error", "skip"]) == 0
    assert "latin.jsonl: skipped 1 undecodable line(s)" in caplog.text
    assert sorted(json.loads(line)["id"] for line in (tmp_path / "o.jsonl").read_text().splitlines()) == \
        ["r0", "r1", "r3"]
    whole = tmp_path / "whole.jsonl"
    whole.write_bytes(("\n".join(rows) + "\n").encode("cp1252"))
    assert main([*args[:4], str(whole), *args[5:], "--encoding", "cp1252"]) == 0
    assert main([*args[:4], str(whole), *args[5:], "--encoding", "klingon"]) == 2
    assert "unknown encoding 'klingon'" in _error(capsys)


# ------------------------------------------------------------------------------------------------ ids


def test_pool_without_ids_gets_the_loaders_content_ids(tmp_path, caplog):
    pool = _pool(tmp_path / "pool.jsonl", n=12, ids=False)
    _jsonl(tmp_path / "with_dup.jsonl", [*map(json.loads, pool.read_text().splitlines()),
                                         json.loads(pool.read_text().splitlines()[0])])
    out = tmp_path / "o.jsonl"
    assert main(["select", "--method", "kcenter", "--pool", str(tmp_path / "with_dup.jsonl"), "--budget", "12",
                 "--out", str(out)]) == 0
    assert "dropped 1 exact duplicate conversation(s)" in caplog.text
    picked = {json.loads(line)["id"] for line in out.read_text().splitlines()}
    loader_ids = set(load_pool(PoolSpec(sources=(PoolSource(path=str(pool)),)))["id"])
    assert picked == loader_ids == {content_id(_messages(i)) for i in range(12)}
    help_text = build_parser()._subparsers._group_actions[0].choices["select"].format_help()
    assert "content id" in help_text and "same rule as the pool loader" in " ".join(help_text.split())


def test_methods_needing_embeddings_say_how_to_get_them(tmp_path, capsys):
    pool = _pool(tmp_path / "pool.jsonl", embeddings=False)
    for command in (["select", "--method", "novelselect", "--budget", "3", "--out", str(tmp_path / "o.jsonl")],
                    ["measure", "--subset", str(_jsonl(tmp_path / "s.jsonl", [{"id": "s001"}])), "--metrics",
                     "vendi"]):
        assert main([*command, "--pool", str(pool)]) == 2
        message = _error(capsys)
        assert "needs embeddings" in message and "infosift embed --pool POOL --out EMB.npz" in message


def test_embed_writes_embeddings_that_select_reads(tmp_path, capsys):
    pool = _pool(tmp_path / "pool.jsonl", n=8, ids=False, embeddings=False)
    emb = tmp_path / "emb.npz"
    assert main(["embed", "--pool", str(pool), "--out", str(emb)]) == 0
    with np.load(emb) as archive:
        ids, matrix = archive["ids"].tolist(), archive["embeddings"]
    assert ids == [content_id(_messages(i)) for i in range(8)] and matrix.shape == (8, 384)
    np.testing.assert_allclose(np.linalg.norm(matrix, axis=1), 1.0, rtol=1e-5)
    out = tmp_path / "o.jsonl"
    assert main(["select", "--method", "kcenter", "--pool", str(pool), "--embeddings", str(emb), "--budget", "3",
                 "--out", str(out)]) == 0
    assert len(out.read_text().splitlines()) == 3
    assert main(["embed", "--pool", str(pool), "--out", str(tmp_path / "emb.json")]) == 2
    assert "writes a .npz file" in _error(capsys)


# ------------------------------------------------------------------------------------------------ label graphs


def test_measure_takes_the_label_graph_select_used(tmp_path):
    rows = [{"id": f"s{i}", "labels": [f"l{i % 6}", f"l{(i + 1) % 6}"], "score": 1.0 + i % 3, "messages": _messages(i)}
            for i in range(24)]
    pool = _jsonl(tmp_path / "pool.jsonl", rows)
    graph = tmp_path / "edges.tsv"
    graph.write_text("source\ttarget\tsimilarity\n" + "".join(f"l{k}\tl{k + 1}\t0.95\n" for k in range(5))
                     + "l0\tmisspelt\t0.99\n", encoding="utf-8")
    picked = tmp_path / "picked.jsonl"
    assert main(["-q", "select", "--method", "mig", "--pool", str(pool), "--budget", "6", "--out", str(picked),
                 "--label-graph", str(graph)]) == 0
    reports = {}
    for name, extra in (("with", ["--label-graph", str(graph)]), ("isolated", [])):
        out = tmp_path / f"{name}.json"
        edgeless = tmp_path / "none.csv"
        edgeless.write_text("source,target,similarity\nl0,l1,0.1\n", encoding="utf-8")
        assert main(["-q", "measure", "--pool", str(pool), "--subset", str(picked), "--metrics", "mig_information",
                     "--out", str(out), *(extra or ["--label-graph", str(edgeless)])]) == 0
        reports[name] = json.loads(out.read_text())
    graph_report = reports["with"]["label_graph"]
    assert graph_report["n_edges"] == 5 and graph_report["edge_list_labels_unknown"] == 1
    assert graph_report["edge_list_labels_matched"] == 6 and graph_report["pool_labels_isolated"] == 0
    assert reports["isolated"]["label_graph"]["n_edges"] == 0
    # propagation over the edges adds information: the same subset measures higher on the richer graph
    assert reports["with"]["metrics"]["mig_information"] > reports["isolated"]["metrics"]["mig_information"]


def test_a_bad_label_graph_fails_before_the_pool_is_read(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    pool = _pool(tmp_path / "pool.jsonl")
    bad = tmp_path / "edges.csv"
    bad.write_text("source,target,similarity\nt0,t1,3\n", encoding="utf-8")
    for graph, message in ((str(bad), "edges.csv: line 2: field 'similarity' is 3, outside [-1, 1]"),
                           ("nobody/encoder-typo", "'nobody/encoder-typo' is not a local folder and not in the "
                                                   "Hugging Face cache")):
        started = time.perf_counter()
        assert main(["select", "--method", "mig", "--pool", str(pool), "--budget", "3", "--out",
                     str(tmp_path / "o.jsonl"), "--label-graph", graph]) == 2
        captured = capsys.readouterr().err
        assert message in captured and "loaded" not in captured and time.perf_counter() - started < 15
