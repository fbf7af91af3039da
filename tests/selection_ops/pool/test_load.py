"""load_pool: ids, de-duplication, limits and seeded samples, the Parquet store, the default spec."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from selection_ops.pool import (
    PoolSource,
    PoolSpec,
    content_id,
    default_pool_spec,
    load_pool,
    read_pool_parquet,
    resolve_data_dir,
    write_pool_parquet,
)


def _alpaca(i: int) -> dict:
    return {"instruction": f"question {i}", "input": "", "output": f"answer {i}"}


def _write_json(path: Path, records: list) -> Path:
    path.write_text(json.dumps(records), encoding="utf-8")
    return path


def test_exact_duplicates_keep_first_and_are_counted(tmp_path):
    a = _write_json(tmp_path / "a.json", [_alpaca(0), _alpaca(1), _alpaca(0)])
    b = _write_json(tmp_path / "b.json", [_alpaca(1), _alpaca(2)])
    frame = load_pool(PoolSpec((PoolSource(path=str(a)), PoolSource(path=str(b), name="bee"))))
    assert [c[0]["content"] for c in frame["conversation"]] == ["question 0", "question 1", "question 2"]
    assert frame["source"].tolist() == ["a", "a", "bee"]
    assert frame.attrs["pool_stats"] == {"a": {"read": 3, "kept": 2, "dropped_duplicates": 1},
                                         "bee": {"read": 2, "kept": 1, "dropped_duplicates": 1}}


def test_same_native_id_with_different_content_is_an_error(tmp_path):
    path = tmp_path / "s.jsonl"
    rows = [{"id": "x", "messages": [{"role": "user", "content": q}, {"role": "assistant", "content": "a"}]}
            for q in ("q1", "q2")]
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    with pytest.raises(ValueError, match=r"s.jsonl: line 2: id 'x' was already used by s.jsonl: line 1"):
        load_pool(PoolSpec((PoolSource(path=str(path)),)))
    # ignoring the native ids falls back to content hashes, which differ
    frame = load_pool(PoolSpec((PoolSource(path=str(path), id_fields=()),)))
    assert len(set(frame["id"])) == 2
    prefixed = load_pool(PoolSpec((PoolSource(path=str(path), id_prefix="s:", limit=1),)))
    assert prefixed["id"].tolist() == ["s:x"]


def test_ids_are_stable_across_loads_and_record_order(tmp_path):
    records = [_alpaca(i) for i in range(20)]
    forward = load_pool(PoolSpec((PoolSource(path=str(_write_json(tmp_path / "f.json", records))),)))
    again = load_pool(PoolSpec((PoolSource(path=str(tmp_path / "f.json")),)))
    backward = load_pool(PoolSpec((PoolSource(path=str(_write_json(tmp_path / "r.json", records[::-1]))),)))
    assert forward["id"].tolist() == again["id"].tolist()
    assert forward["id"].tolist() == backward["id"].tolist()[::-1]
    assert forward["id"][3] == content_id([{"role": "user", "content": "question 3"},
                                           {"role": "assistant", "content": "answer 3"}])


def test_limit_takes_first_or_a_seeded_sample_in_file_order(tmp_path):
    path = str(_write_json(tmp_path / "p.json", [_alpaca(i) for i in range(50)]))

    def questions(**kwargs) -> list[int]:
        frame = load_pool(PoolSpec((PoolSource(path=path, **kwargs),)))
        return [int(c[0]["content"].split()[1]) for c in frame["conversation"]]

    assert questions(limit=5) == [0, 1, 2, 3, 4]
    sample = questions(limit=10, seed=3)
    assert len(sample) == 10 and sample == sorted(sample) and len(set(sample)) == 10
    assert sample == questions(limit=10, seed=3)
    assert sample != questions(limit=10, seed=4)
    assert questions(limit=80, seed=1) == list(range(50))


def test_parquet_store_round_trip(tmp_path):
    path = _write_json(tmp_path / "p.json", [_alpaca(0), {**_alpaca(1), "history": [["é", "ü"]]}, _alpaca(0)])
    frame = load_pool(PoolSpec((PoolSource(path=str(path)),)))
    store = write_pool_parquet(frame, tmp_path / "out" / "pool.parquet")
    back = read_pool_parquet(store)
    assert back.equals(frame)
    assert back.attrs["pool_stats"]["p"]["dropped_duplicates"] == 1
    # the store is itself a pool source ("canonical" format) and keeps its ids
    reread = load_pool(PoolSpec((PoolSource(path=str(store)),)))
    assert reread["id"].tolist() == frame["id"].tolist()
    assert reread["conversation"].tolist() == frame["conversation"].tolist()


def test_read_pool_parquet_rejects_other_tables(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist([{"id": "1"}]), tmp_path / "x.parquet")
    message = r"x.parquet: not a pool store, lacks column\(s\) \['conversation', 'source'\]"
    with pytest.raises(ValueError, match=message):
        read_pool_parquet(tmp_path / "x.parquet")


def test_pool_source_validation():
    with pytest.raises(ValueError, match="exactly one of path and hf_id"):
        PoolSource()
    with pytest.raises(ValueError, match="unknown format 'csv'"):
        PoolSource(path="x.json", format="csv")  # type: ignore[arg-type]


def test_data_dir_setting(monkeypatch, tmp_path):
    monkeypatch.setenv("INFOSIFT_DATA_DIR", str(tmp_path))
    assert resolve_data_dir() == tmp_path.resolve()
    assert resolve_data_dir(tmp_path / "other") == (tmp_path / "other").resolve()
    monkeypatch.delenv("INFOSIFT_DATA_DIR")
    assert resolve_data_dir() == (Path(__file__).resolve().parents[3].parent / "shared" / "data").resolve()


def test_default_spec_falls_back_to_hub_ids_without_the_data_folder(tmp_path):
    spec = default_pool_spec(tmp_path / "nowhere", limit_per_source=100, seed=7)
    assert [s.hf_id for s in spec.sources] == ["GAIR/lima", "tatsu-lab/alpaca", "databricks/databricks-dolly-15k"]
    assert [s.label for s in spec.sources] == ["lima", "alpaca", "dolly"]
    assert all(s.path is None and s.limit == 100 and s.seed == 7 for s in spec.sources)
    full = default_pool_spec(tmp_path / "nowhere")
    assert [s.limit for s in full.sources] == [None, 2000, 2000]
    assert full.sources[2].rename == {"context": "input", "response": "output"}


def test_default_spec_uses_local_pools(data_dir):
    spec = default_pool_spec(data_dir, limit_per_source=30, seed=1)
    assert [Path(s.path).name for s in spec.sources] == ["lima_train_sdft.json", "alpaca_2k_sdft.json",
                                                         "dolly_2k_sdft.json"]
    frame = load_pool(spec)
    assert frame.groupby("source").size().to_dict() == {"lima": 30, "alpaca": 30, "dolly": 30}
    assert load_pool(spec)["id"].tolist() == frame["id"].tolist()


def test_on_error_skip_leaves_out_malformed_records(tmp_path, caplog):
    path = tmp_path / "p.jsonl"
    path.write_text(json.dumps(_alpaca(0)) + "\n{not json\n" + json.dumps({"instruction": "q", "output": None})
                    + "\n" + json.dumps(_alpaca(3)) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"^p.jsonl: line 2: invalid JSON"):
        load_pool(PoolSpec((PoolSource(path=str(path)),)))
    with caplog.at_level("WARNING"):
        frame = load_pool(PoolSpec((PoolSource(path=str(path), on_error="skip"),)))
    assert [c[0]["content"] for c in frame["conversation"]] == ["question 0", "question 3"]
    assert "p.jsonl: line 2: invalid JSON" in caplog.text
    assert "p.jsonl: line 3: field 'output' must be a string, got null" in caplog.text


def test_mig_example_as_a_pool_source(data_dir):
    frame = load_pool(PoolSpec((PoolSource(path=str(data_dir / "mig" / "example.jsonl"), on_error="skip"),)))
    assert len(frame) == 9 and frame["id"][0] == "09968d11fd5b70c445cf361e"  # MIG's own `_id`
