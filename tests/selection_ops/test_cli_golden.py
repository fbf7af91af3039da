"""No behaviour change for valid inputs: `infosift select` gives the same bytes as before input validation.

The digests were computed with the CLI of commit db0912e (before atomic outputs, validation and content ids) on
the seeded pool below; any change to what a valid pool selects or how it is written fails here.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from selection_ops.cli import main

LABELS = [f"topic {k}" for k in range(12)]


def write_golden_pool(folder: Path, n: int = 150) -> tuple[Path, Path]:
    """``pool.jsonl`` (id, labels, score, embedding, messages) and ``edges.csv`` in ``folder``."""
    rng = np.random.default_rng(20261202)
    centres = rng.normal(size=(6, 8))
    rows = []
    for i in range(n):
        labels = sorted({LABELS[int(k)] for k in rng.integers(0, len(LABELS), size=int(rng.integers(1, 4)))})
        embedding = (centres[i % 6] + 0.3 * rng.normal(size=8)).round(5).tolist()
        rows.append({"id": f"g{i:04d}", "labels": labels, "score": round(float(rng.uniform(1, 6)), 4),
                     "embedding": embedding,
                     "messages": [{"role": "user", "content": f"question {i} about {labels[0]}"},
                                  {"role": "assistant", "content": f"answer {i} " + "word " * int(i % 9)}]})
    pool = folder / "pool.jsonl"
    pool.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    edges = ["source,target,similarity"]
    for a in range(len(LABELS)):
        for b in range(a + 1, len(LABELS)):
            similarity = round(float(np.cos((a - b) / 3.0)), 4)
            if similarity >= 0.5:
                edges.append(f"{LABELS[a]},{LABELS[b]},{similarity}")
    graph = folder / "edges.csv"
    graph.write_text("\n".join(edges) + "\n", encoding="utf-8")
    return pool, graph


# (method, extra CLI arguments) whose outputs are pinned by digest
GOLDEN_RUNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("random", ()),
    ("kcenter", ()),
    ("deita", ("--param", "threshold=0.97")),
    ("qdit", ()),
    ("instag", ()),
    ("mig", ("--param", "threshold=0.6")),
)


POOL_DIGEST = "82801c49b9277ef353839bc6a40456b38c9876ef6a3463a9f89ba95d5217c19b"
DIGESTS = {
    "random": "b27f6c0bcc5840bd573ab7cc7c87f04b0adbb6dd054a22614ce008f04a92154f",
    "kcenter": "c74abc74438d16e205c19010244c2218426f43054bd5cca03b2f418696432099",
    "deita": "4c21137f352b54af01432dd78c9d94c680aadc2b97277c2d1160459a7f8786b3",
    "qdit": "27bc16d97aec3e6a985efdcbc5e2d25da61724936e7eda3f3857601028932301",
    "instag": "4a1503da7a9278b7aa59c75d5cb0fd74f08eef871ea129a338d84913f133a276",
    "mig": "55873c57ad2a8dfc390ff6a9567766ea4013062c2f1e15c3a9026dd5fdf81dec",
}


@pytest.fixture(scope="module")
def golden(tmp_path_factory):
    folder = tmp_path_factory.mktemp("golden")
    pool, graph = write_golden_pool(folder)
    assert hashlib.sha256(pool.read_bytes()).hexdigest() == POOL_DIGEST  # the input itself is unchanged
    return folder, pool, graph


@pytest.mark.parametrize(("method", "extra"), GOLDEN_RUNS, ids=[run[0] for run in GOLDEN_RUNS])
def test_select_output_is_byte_identical_to_before(golden, method, extra):
    folder, pool, graph = golden
    out = folder / f"{method}.jsonl"
    args = ["-q", "select", "--method", method, "--pool", str(pool), "--budget", "25", "--out", str(out),
            "--seed", "7", *extra]
    if method == "mig":
        args += ["--label-graph", str(graph)]
    assert main(args) == 0
    assert hashlib.sha256(out.read_bytes()).hexdigest() == DIGESTS[method]
