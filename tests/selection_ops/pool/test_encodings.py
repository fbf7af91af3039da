"""Pool files in any encoding: UTF-8 by default, a bad byte names file and line, skipping is counted."""

import json
import logging

import pytest

from selection_ops.pool import RecordError
from selection_ops.pool.readers import iter_file_records

ROWS = [{"id": f"r{i}", "text": "na\u00efve caf\u00e9 \u20ac"} for i in range(3)]


def _text(rows=ROWS) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16"])
def test_jsonl_in_the_named_encoding(tmp_path, encoding):
    path = tmp_path / "p.jsonl"
    path.write_bytes(_text().encode(encoding))
    assert [record for _, record in iter_file_records(path, encoding=encoding)] == ROWS


def test_utf8_bom_is_not_content(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_bytes(_text().encode("utf-8-sig"))
    assert [record for _, record in iter_file_records(path)] == ROWS
    array = tmp_path / "a.json"
    array.write_bytes(json.dumps(ROWS, ensure_ascii=False).encode("utf-8-sig"))
    assert [record for _, record in iter_file_records(array)] == ROWS


def test_bad_byte_names_file_line_and_column_then_skip_counts(tmp_path, caplog):
    path = tmp_path / "p.jsonl"
    lines = _text().splitlines(keepends=True)
    path.write_bytes(lines[0].encode() + lines[1].encode("cp1252") + lines[2].encode())
    with pytest.raises(RecordError, match=r"^p.jsonl: line 2: is not valid utf-8 \(byte 0xef at column 25\); "
                                          r"pass --encoding"):
        list(iter_file_records(path))
    with caplog.at_level(logging.WARNING):
        kept = [record["id"] for _, record in iter_file_records(path, skip_invalid=True)]
    assert kept == ["r0", "r2"] and "p.jsonl: skipped 1 undecodable line(s)" in caplog.text


def test_json_array_bad_byte_names_the_line(tmp_path):
    path = tmp_path / "a.json"
    path.write_bytes(b'[\n{"id": "a"},\n{"id": "caf\xe9"}\n]\n')
    with pytest.raises(RecordError, match=r"^a.json: line 3: is not valid utf-8 \(byte 0xe9 at column 12\)"):
        list(iter_file_records(path))


def test_unknown_encoding_is_refused(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text(_text(), encoding="utf-8")
    with pytest.raises(ValueError, match="unknown encoding 'utf-9'"):
        iter_file_records(path, encoding="utf-9")


def test_pool_source_reads_its_encoding(tmp_path):
    from selection_ops.pool import PoolSource, PoolSpec, load_pool

    path = tmp_path / "a.json"
    records = [{"instruction": "Caf\u00e9?", "output": "Oui."}]
    path.write_bytes(json.dumps(records, ensure_ascii=False).encode("cp1252"))
    with pytest.raises(RecordError, match="a.json: line 1: is not valid utf-8"):
        load_pool(PoolSpec((PoolSource(path=str(path)),)))
    frame = load_pool(PoolSpec((PoolSource(path=str(path), encoding="cp1252"),)))
    assert frame["conversation"][0][0]["content"] == "Caf\u00e9?"
