"""Every record format parsed from small hand-written files into the expected canonical conversation."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from selection_ops.pool import PoolSource, PoolSpec, RecordError, content_id, load_pool, text_for_metrics

HI = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]


def _load(path: Path, **kwargs) -> list:
    return list(load_pool(PoolSpec((PoolSource(path=str(path), **kwargs),)))["conversation"])


def _write_json(path: Path, records: list) -> Path:
    path.write_text(json.dumps(records), encoding="utf-8")
    return path


def _write_jsonl(path: Path, records: list) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_alpaca_instruction_input_output_and_history(tmp_path):
    records = [
        {"instruction": "Add", "input": "2 and 3", "output": "5"},
        {"instruction": "Say hi", "input": "", "output": "Hi"},
        {"instruction": "And now?", "output": "Bye", "history": [["Q1", "A1"], ["Q2", "A2"]]},
        {"instruction": "", "input": "only input", "output": "ok", "system": "Be brief."},
    ]
    conversations = _load(_write_json(tmp_path / "a.json", records))
    assert conversations[0] == [{"role": "user", "content": "Add\n2 and 3"}, {"role": "assistant", "content": "5"}]
    assert conversations[1] == [{"role": "user", "content": "Say hi"}, {"role": "assistant", "content": "Hi"}]
    assert conversations[2] == [
        {"role": "user", "content": "Q1"}, {"role": "assistant", "content": "A1"},
        {"role": "user", "content": "Q2"}, {"role": "assistant", "content": "A2"},
        {"role": "user", "content": "And now?"}, {"role": "assistant", "content": "Bye"},
    ]
    assert conversations[3] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "only input"},
                                {"role": "assistant", "content": "ok"}]


def test_sharegpt_roles_normalised(tmp_path):
    records = [{"id": "s1", "conversations": [
        {"from": "system", "value": "S"}, {"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello!"},
        {"from": "user", "value": "More"}, {"from": "assistant", "value": "Sure"}]}]
    frame = load_pool(PoolSpec((PoolSource(path=str(_write_jsonl(tmp_path / "s.jsonl", records))),)))
    assert frame["id"].tolist() == ["s1"]
    assert frame["conversation"][0] == [
        {"role": "system", "content": "S"}, {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"}, {"role": "user", "content": "More"},
        {"role": "assistant", "content": "Sure"}]


def test_messages_mig_turns_formats(tmp_path):
    messages = _write_jsonl(tmp_path / "m.jsonl", [{"messages": [{"role": "User", "content": "Hi"},
                                                                  {"role": "assistant", "content": "Hello!"}]}])
    dialogs = _write_jsonl(tmp_path / "d.jsonl", [{"_id": "abc", "dialogs": HI, "annotation": {}}])
    turns = _write_json(tmp_path / "t.json", [{"conversations": ["Hi", "Hello!", "Again", "Yes"], "source": "x"}])
    assert _load(messages) == [HI]
    assert _load(dialogs) == [HI]
    assert _load(turns) == [HI + [{"role": "user", "content": "Again"}, {"role": "assistant", "content": "Yes"}]]
    frame = load_pool(PoolSpec((PoolSource(path=str(dialogs)),)))
    assert frame["id"].tolist() == ["abc"]  # MIG's own `_id`


def test_parquet_input_and_json_named_jsonl(tmp_path):
    table = pa.Table.from_pylist([{"instruction": "Hi", "input": None, "output": "Hello!"}])
    pq.write_table(table, tmp_path / "p.parquet")
    assert _load(tmp_path / "p.parquet") == [HI]
    # a .json file that is really JSONL
    assert _load(_write_jsonl(tmp_path / "really_lines.json", [{"messages": HI}])) == [HI]


def test_same_content_same_id_across_formats(tmp_path):
    alpaca = _write_json(tmp_path / "a.json", [{"instruction": "Hi", "input": "", "output": "Hello!"}])
    sharegpt = _write_jsonl(tmp_path / "s.jsonl", [{"conversations": [{"from": "human", "value": "Hi"},
                                                                       {"from": "gpt", "value": "Hello!"}]}])
    pq.write_table(pa.Table.from_pylist([{"messages": HI}]), tmp_path / "m.parquet")
    ids = {load_pool(PoolSpec((PoolSource(path=str(p)),)))["id"][0]
           for p in (alpaca, sharegpt, tmp_path / "m.parquet")}
    assert len(ids) == 1
    # the documented recipe: sha1 of the compact, key-sorted conversation JSON, first 16 hex digits
    canonical = b'[{"content":"Hi","role":"user"},{"content":"Hello!","role":"assistant"}]'
    expected = hashlib.sha1(canonical).hexdigest()[:16]
    assert ids == {expected} == {content_id(HI)}


def test_explicit_format_and_rename(tmp_path):
    path = _write_jsonl(tmp_path / "dolly.jsonl", [{"instruction": "Hi", "context": "", "response": "Hello!"}])
    assert _load(path, format="alpaca", rename={"context": "input", "response": "output"}) == [HI]


def test_text_for_metrics_rendering():
    convo = [{"role": "system", "content": "S"}] + HI
    assert text_for_metrics(convo) == "System: S\n\nUser: Hi\n\nAssistant: Hello!"


@pytest.mark.parametrize(("records", "kind", "message"), [
    ([{"instruction": "a", "output": "b"}, {"instruction": "a", "input": "", "output": None}], "json",
     "bad.json: record 1: field 'output' must be a string, got null"),
    ([{"instruction": "a", "output": "b"}, {"instruction": "a", "output": "b", "history": [["q"]]}], "jsonl",
     "bad.jsonl: line 2: field 'history[0]' must be an [instruction, response] pair, got 1 items"),
    ([{"conversations": [{"from": "human", "value": "q"}, {"from": "robot", "value": "a"}]}], "jsonl",
     "bad.jsonl: line 1: field 'conversations[1].from' has unknown role 'robot'"),
    ([{"messages": [{"role": "user", "content": "q"}, {"role": "assistant"}]}], "json",
     "bad.json: record 0: field 'messages[1].content' is missing"),
    ([{"messages": [{"role": "user", "content": "q"}]}], "json",
     "bad.json: record 0: field 'messages' has no assistant turn"),
    ([{"instruction": "a", "output": "b"}, {"instruction": "a"}], "jsonl",
     "bad.jsonl: line 2: field 'output' is missing"),
    ([{"text": "hello"}], "json", "bad.json: record 0: cannot detect the record format"),
])
def test_malformed_records_name_file_position_and_field(tmp_path, records, kind, message):
    path = (_write_json if kind == "json" else _write_jsonl)(tmp_path / f"bad.{kind}", records)
    with pytest.raises(RecordError) as info:
        _load(path)
    assert str(info.value).startswith(message)


def test_invalid_json_line_is_named(tmp_path):
    path = tmp_path / "broken.jsonl"
    good = json.dumps({"messages": HI})
    path.write_text(f'{good}\n\n{{"messages": [\n', encoding="utf-8")
    with pytest.raises(RecordError, match=r"^broken.jsonl: line 3: invalid JSON"):
        _load(path, format="messages")


def test_parquet_rows_are_named(tmp_path):
    pq.write_table(pa.Table.from_pylist([{"instruction": "Hi", "output": "Hello!"},
                                         {"instruction": "Hi", "output": None}]), tmp_path / "p.parquet")
    with pytest.raises(RecordError, match=r"^p.parquet: row 1: field 'output' must be a string, got null$"):
        _load(tmp_path / "p.parquet")
