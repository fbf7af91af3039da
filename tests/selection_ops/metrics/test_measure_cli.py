"""`infosift measure` with the diversity metrics: a pool file, a subset file of ids (repeats kept), JSON out."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from selection_ops.cli import main
from selection_ops.data_model import PoolView
from selection_ops.registry import measure, metric_names

OUR_METRICS = ["novelsum", "ttr", "vocd_d", "distsum_cosine", "distsum_l2", "knn_distance", "cluster_inertia",
               "vendi", "radius", "logdet", "facility_location", "partition_entropy"]


@pytest.fixture
def pool_file(tmp_path: Path) -> tuple[Path, np.ndarray, list[str]]:
    rng = np.random.default_rng(0)
    embeddings = rng.normal(size=(60, 6)).round(4)
    texts = [" ".join(rng.choice([f"w{j}" for j in range(30)], size=40)) for _ in range(60)]
    path = tmp_path / "pool.jsonl"
    with path.open("w") as handle:
        for i in range(60):
            handle.write(json.dumps({"id": f"s{i}", "text": texts[i], "embedding": embeddings[i].tolist()}) + "\n")
    return path, embeddings, texts


def test_every_metric_is_registered() -> None:
    assert set(OUR_METRICS) <= set(metric_names())


def test_measure_command_prints_and_writes(pool_file, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path, embeddings, texts = pool_file
    subset_ids = ["s3", "s10", "s10", "s42", "s7", "s0", "s59", "s21"]  # s10 repeated, as a Duplicate subset has
    subset_path = tmp_path / "subset.jsonl"
    subset_path.write_text("".join(json.dumps({"id": i}) + "\n" for i in subset_ids))
    out = tmp_path / "metrics.json"
    code = main(["-q", "measure", "--pool", str(path), "--subset", str(subset_path), "--text-field", "text",
                 "--metrics", ",".join(OUR_METRICS), "--param", "novelsum.k=5",
                 "--param", "cluster_inertia.clusters=3",
                 "--param", "partition_entropy.clusters=10", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    report = json.loads(out.read_text())
    assert set(report["metrics"]) == set(OUR_METRICS) and report["n_subset"] == 8
    assert report["details"]["cluster_inertia"]["clusters"] == 3  # the count used, next to the value
    assert report["details"]["partition_entropy"]["clusters_rule"] == "given"
    assert all(name in printed for name in OUR_METRICS)
    # the same numbers as the library call on the same rows
    rows = [int(i[1:]) for i in subset_ids]
    pool = PoolView(ids=[f"s{i}" for i in range(60)], embeddings=embeddings.astype(np.float32), texts=texts)
    direct = measure(pool.subset(rows), pool, ["novelsum", "distsum_cosine", "ttr"], {"novelsum": {"k": 5}})
    for name, value in direct.items():
        assert report["metrics"][name] == pytest.approx(value, rel=1e-6)


def test_measure_command_reports_a_missing_field(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bare = tmp_path / "bare.jsonl"
    bare.write_text("".join(json.dumps({"id": f"s{i}"}) + "\n" for i in range(5)))
    subset_path = tmp_path / "subset.jsonl"
    subset_path.write_text(json.dumps({"id": "s1"}) + "\n" + json.dumps({"id": "s2"}) + "\n")
    assert main(["-q", "measure", "--pool", str(bare), "--subset", str(subset_path), "--metrics", "vendi"]) == 2
    assert "vendi needs embeddings" in capsys.readouterr().err
