"""load_pool_view: generic annotated records, MIG's format, embeddings by id, malformed lines."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from selection_ops.pool import RecordError
from selection_ops.pool_view_io import load_pool_view

HI = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]


def _jsonl(path: Path, records: list) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _generic(n: int = 3) -> list[dict]:
    return [{"id": f"s{i}", "labels": [f"tag{i}", "common"], "score": float(i), "embedding": [1.0, float(i)],
             "messages": HI, "ifd": 0.5 + i, "note": "x"} for i in range(n)]


def test_generic_jsonl_columns(tmp_path):
    view, records = load_pool_view(_jsonl(tmp_path / "p.jsonl", _generic()))
    assert list(view.ids) == ["s0", "s1", "s2"]
    assert view.labels[1] == ["tag1", "common"]
    np.testing.assert_array_equal(view.score, [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(view.embeddings, [[1, 0], [1, 1], [1, 2]])
    assert view.embeddings.dtype == np.float32
    assert view.texts[0] == "User: Hi\n\nAssistant: Hello!"
    assert set(view.extra) == {"ifd"}  # numeric top-level fields become extra columns; "note" is text
    np.testing.assert_array_equal(view.extra["ifd"], [0.5, 1.5, 2.5])
    assert records[2]["note"] == "x" and records[2]["id"] == "s2"


def test_parquet_and_overridden_nested_fields(tmp_path):
    rows = [{"key": i, "meta": {"tags": ["a"], "q": i * 1.5}, "body": f"text {i}"} for i in range(3)]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "p.parquet")
    view, _ = load_pool_view(tmp_path / "p.parquet", id_field="key", labels_field="meta.tags", score_field="meta.q",
                             text_field="body")
    assert list(view.ids) == ["0", "1", "2"]
    assert view.labels == [["a"], ["a"], ["a"]]
    np.testing.assert_array_equal(view.score, [0.0, 1.5, 3.0])
    assert view.texts == ["text 0", "text 1", "text 2"] and view.embeddings is None


def test_absent_optional_columns_are_none(tmp_path):
    view, _ = load_pool_view(_jsonl(tmp_path / "p.jsonl", [{"id": "a"}, {"id": "b"}]))
    assert view.labels is None and view.score is None and view.embeddings is None and view.texts is None


def test_mig_format_scores_by_hand(tmp_path):
    record = {"_id": "m1", "dialogs": HI + HI, "source": ["tulu"], "ifd_score": {"version": 1, "content": 0.25},
              "annotation": {"instag": {"content": ["math", "logic"]}, "CaR": [0.5, 1.5],
                             "deita": {"quality_scores": [2.0, 4.0], "complexity_scores": [3.0, 1.0]}}}
    view, records = load_pool_view(_jsonl(tmp_path / "mig.jsonl", [record]))
    assert list(view.ids) == ["m1"] and view.labels == [["math", "logic"]]
    # quality x complexity per turn: 6 and 4 -> MIG's score is the mean (5), DEITA's the sum (10)
    assert view.score.tolist() == [5.0]
    assert view.extra["deita_score"].tolist() == [10.0]
    assert view.extra["ifd"].tolist() == [0.25] and view.extra["car_score"].tolist() == [1.0]
    assert view.texts[0].startswith("User: Hi\n\nAssistant: Hello!\n\nUser: Hi")
    assert records == [record]


def test_mig_example_skips_the_malformed_line(data_dir, caplog):
    path = data_dir / "mig" / "example.jsonl"
    with pytest.raises(RecordError, match=r"^example.jsonl: line 3: invalid JSON"):
        load_pool_view(path)
    with caplog.at_level(logging.WARNING):
        view, records = load_pool_view(path, on_error="skip")
    assert "example.jsonl: line 3" in caplog.text
    assert len(view) == 9 == len(records)
    raw = [json.loads(line) for i, line in enumerate(path.read_text().splitlines()) if i != 2]
    assert list(view.ids) == [r["_id"] for r in raw]
    first = raw[0]["annotation"]["deita"]
    assert view.score[0] == pytest.approx(first["quality_scores"][0] * first["complexity_scores"][0])
    assert view.labels[0] == raw[0]["annotation"]["instag"]["content"]
    assert view.extra["ifd"][0] == pytest.approx(raw[0]["ifd_score"]["content"])


@pytest.mark.parametrize(("records", "message"), [
    ([{"id": "a", "score": 1}, {"id": "b", "score": None}],
     "p.jsonl: line 2: field 'score' must be a number, got null"),
    ([{"id": "a", "labels": ["x"]}, {"id": "b", "labels": "x"}],
     "p.jsonl: line 2: field 'labels' must be an array of strings, got string"),
    ([{"id": "a", "score": 1}, {"id": "b"}], "p.jsonl: line 2: field 'score' is missing (other records have it)"),
    ([{"id": "a"}, {"score": 1}], "p.jsonl: line 2: field 'id' is missing, and the record has no conversation "
                                  "(messages, conversations, dialogs, conversation or instruction + output) and no "
                                  "text field 'text' to derive a content id from"),
    ([{"id": "a"}, {"id": "a"}], "p.jsonl: line 2: field 'id' repeats id 'a' of p.jsonl: line 1"),
    ([{"id": "a", "embedding": [1, 2]}, {"id": "b", "embedding": [1]}],
     "p.jsonl: line 2: field 'embedding' has 1 dimensions, the first record has 2"),
])
def test_malformed_records_raise_or_skip(tmp_path, records, message):
    path = _jsonl(tmp_path / "p.jsonl", records)
    with pytest.raises(RecordError) as info:
        load_pool_view(path)
    assert str(info.value) == message
    view, kept = load_pool_view(path, on_error="skip")
    assert list(view.ids) == ["a"] and len(kept) == 1


def test_missing_mig_deita_field_is_named(tmp_path):
    record = {"_id": "m1", "dialogs": HI, "annotation": {"instag": {"content": ["x"]},
                                                         "deita": {"quality_scores": [1.0]}}}
    message = r"^mig.jsonl: line 1: field 'annotation.deita.complexity_scores' is missing$"
    with pytest.raises(RecordError, match=message):
        load_pool_view(_jsonl(tmp_path / "mig.jsonl", [record]))


@pytest.mark.parametrize("kind", ["npz", "jsonl", "parquet"])
def test_embeddings_file_aligned_by_id(tmp_path, kind):
    pool = _jsonl(tmp_path / "p.jsonl", [{"id": "a"}, {"id": "b"}, {"id": 3}])
    ids, vectors = ["3", "extra", "a", "b"], [[3.0, 0.0], [9.0, 9.0], [1.0, 0.0], [2.0, 0.0]]
    if kind == "npz":
        np.savez(tmp_path / "e.npz", ids=np.array(ids), embeddings=np.array(vectors))
    elif kind == "jsonl":
        _jsonl(tmp_path / "e.jsonl", [{"id": i, "embedding": v} for i, v in zip(ids, vectors)])
    else:
        pq.write_table(pa.Table.from_pylist([{"id": i, "embedding": v} for i, v in zip(ids, vectors)]),
                       tmp_path / "e.parquet")
    view, _ = load_pool_view(pool, embeddings_path=tmp_path / f"e.{kind}")
    np.testing.assert_array_equal(view.embeddings, [[1, 0], [2, 0], [3, 0]])


def test_embeddings_file_missing_ids_are_named(tmp_path):
    pool = _jsonl(tmp_path / "p.jsonl", [{"id": "a"}, {"id": "b"}])
    np.savez(tmp_path / "e.npz", ids=np.array(["a"]), embeddings=np.ones((1, 4)))
    with pytest.raises(ValueError, match=r"e.npz: no embedding for 1 pool id\(s\): 'b'"):
        load_pool_view(pool, embeddings_path=tmp_path / "e.npz")


def test_a_non_finite_extra_field_is_named_not_silently_dropped(tmp_path, caplog):
    import logging

    path = tmp_path / "p.jsonl"
    path.write_text('{"id": "a", "ifd": 0.5}\n{"id": "b", "ifd": NaN}\n', encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        view, _ = load_pool_view(path)
    assert "ifd" not in view.extra
    assert "field 'ifd' is not a finite number in 1 record(s) (first: p.jsonl: line 2)" in caplog.text
    with pytest.raises(RecordError, match="p.jsonl: line 2: field 'ifd' must be a finite number, got nan"):
        load_pool_view(path, extra_fields=["ifd"])
