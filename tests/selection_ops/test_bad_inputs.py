"""Bad inputs a user hands the pool readers and the `infosift` CLI, each refused with one line naming the file (and
the line, record or field) and saying what it holds and what is expected.

Every case is checked through the Python API (``load_pool``, ``load_pool_view``, ``load_embeddings_file``,
``load_valid_labels``, ``run_selector``) and through ``infosift`` (``main``), where the CLI reads that input.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from selection_ops.cli import load_valid_labels, main
from selection_ops.data_model import PoolView
from selection_ops.pool import PoolSource, PoolSpec, RecordError, content_id, load_pool, text_content_id
from selection_ops.pool_view_io import load_embeddings_file, load_pool_view
from selection_ops.registry import run_selector


def _messages(i: int) -> list[dict]:
    return [{"role": "user", "content": f"question {i}"}, {"role": "assistant", "content": f"answer {i}"}]


def _record(i: int) -> dict:
    return {"id": f"s{i}", "messages": _messages(i), "embedding": [1.0, float(i), float(i % 3)]}


def _jsonl(path: Path, rows: list) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def _error(capsys) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines and lines[-1].startswith("infosift: error: ")
    return lines[-1].removeprefix("infosift: error: ")


def _select(pool: Path, tmp_path: Path, *extra: str, method: str = "random", budget: int = 2) -> int:
    return main(["select", "--method", method, "--pool", str(pool), "--budget", str(budget), "--out",
                 str(tmp_path / "out.jsonl"), *extra])


def _python_errors(path: Path, on_error: str = "raise") -> list[str]:
    """The messages of the pool loader and of the CLI's pool-view loader for ``path`` (each must raise)."""
    messages = []
    for load in (lambda: load_pool(PoolSpec((PoolSource(path=str(path), on_error=on_error),))),
                 lambda: load_pool_view(path, on_error=on_error)):
        with pytest.raises((ValueError, OSError)) as info:
            load()
        messages.append(str(info.value))
    return messages


# ------------------------------------------------------------------------------------------ 1. no records left


@pytest.mark.parametrize(("name", "content", "message"), [
    ("empty.jsonl", b"", "empty.jsonl: holds no records (the file is empty); a pool needs at least one record"),
    ("empty.json", b"", "empty.json: holds no records (the file is empty); a pool needs at least one record"),
    ("blank.jsonl", b"\n  \n", "blank.jsonl: holds no records (only blank lines); a pool needs at least one record"),
    ("none.json", b"[]\n", "none.json: holds no records (an empty JSON array); a pool needs at least one record"),
    ("none.parquet", None, "none.parquet: holds no records (0 rows); a pool needs at least one record"),
])
def test_a_pool_file_without_records_is_an_error_naming_it(tmp_path, capsys, name, content, message):
    path = tmp_path / name
    if content is None:
        pq.write_table(pa.table({"id": pa.array([], pa.string())}), path)
    else:
        path.write_bytes(content)
    for on_error in ("raise", "skip"):
        assert _python_errors(path, on_error) == [message, message]
    assert _select(path, tmp_path) == 2 and _error(capsys) == message
    subset = tmp_path / "subset.jsonl"
    subset.write_bytes(b"")
    pool = _jsonl(tmp_path / "pool.jsonl", [_record(i) for i in range(3)])
    assert main(["measure", "--pool", str(pool), "--subset", str(subset), "--metrics", "distsum_cosine"]) == 2
    assert _error(capsys) == "subset.jsonl: holds no records (the file is empty); a subset needs at least one record"


def test_every_record_skipped_is_an_error_with_the_first_reason(tmp_path, capsys):
    no_output = _jsonl(tmp_path / "nulls.jsonl", [{"instruction": "q", "output": None}] * 2)
    with pytest.raises(RecordError) as info:
        load_pool(PoolSpec((PoolSource(path=str(no_output), on_error="skip"),)))
    assert str(info.value) == ("nulls.jsonl: every record was skipped (2 of 2 record(s)); the first: line 1: field "
                               "'output' must be a string, got null")

    no_ids = _jsonl(tmp_path / "noids.jsonl", [{"score": 1}, {"score": 2}])
    message = ("noids.jsonl: every record was skipped (2 record(s) (2 for field 'id')); the first: line 1: field 'id' "
               "is missing, and the record has no conversation (messages, conversations, dialogs, conversation or "
               "instruction + output) and no text field 'text' to derive a content id from")
    with pytest.raises(RecordError) as info:
        load_pool_view(no_ids, on_error="skip")
    assert str(info.value) == message
    assert _select(no_ids, tmp_path, "--on-error", "skip") == 2 and _error(capsys) == message

    not_json = tmp_path / "broken.jsonl"
    not_json.write_text("{not json\n\n{\"id\": \n", encoding="utf-8")
    message = ("broken.jsonl: every line was skipped (2 invalid JSON line(s)); the first: line 1: invalid JSON "
               "(Expecting property name enclosed in double quotes at column 2)")
    assert _python_errors(not_json, "skip") == [message, message]
    assert _select(not_json, tmp_path, "--on-error", "skip") == 2 and _error(capsys) == message


def test_some_records_skipped_still_load(tmp_path):
    path = _jsonl(tmp_path / "p.jsonl", [{"id": "s0", "instruction": "q", "output": None},
                                         {"id": "s1", "instruction": "q", "output": "a"}])
    assert load_pool(PoolSpec((PoolSource(path=str(path), on_error="skip"),)))["id"].tolist() == ["s1"]
    assert list(load_pool_view(path, on_error="skip")[0].ids) == ["s1"]


# ------------------------------------------------------------------------------------------ 2. a folder


def test_a_folder_given_as_a_file_is_called_a_folder(tmp_path, capsys):
    folder = tmp_path / "pool.jsonl"
    folder.mkdir()
    message = f"pool {folder} is a folder; expected a .json, .jsonl or .parquet file"
    assert _python_errors(folder) == [message, message]
    assert _select(folder, tmp_path) == 2 and _error(capsys) == message

    pool = _jsonl(tmp_path / "real.jsonl", [_record(i) for i in range(4)])
    assert _select(pool, tmp_path, "--embeddings", str(folder)) == 2
    assert _error(capsys) == (f"embeddings {folder} is a folder; expected a .npz (arrays 'ids' and 'embeddings') or "
                              "a .jsonl, .json or .parquet file of records")
    with pytest.raises(IsADirectoryError, match=r"^embeddings file .* is a folder"):
        load_embeddings_file(folder, ["s0"])
    assert _select(pool, tmp_path, "--valid-labels", str(folder)) == 2
    assert _error(capsys) == (f"valid-labels {folder} is a folder; expected a file: a JSON array of label strings, "
                              "or one label per line")
    with pytest.raises(IsADirectoryError, match=r"^valid-labels .* is a folder"):
        load_valid_labels(folder)
    assert main(["measure", "--pool", str(pool), "--subset", str(folder), "--metrics", "distsum_cosine"]) == 2
    assert _error(capsys) == (f"subset {folder} is a folder; expected a .jsonl, .json or .parquet file of records "
                              "with 'id'")
    assert _select(tmp_path / "missing.jsonl", tmp_path) == 2  # a missing file is still "not found"
    assert _error(capsys) == f"pool file not found: {tmp_path / 'missing.jsonl'}"


# ------------------------------------------------------------------------------------------ 3. unreadable files


def test_a_truncated_parquet_file_is_named(tmp_path, capsys):
    whole = tmp_path / "whole.parquet"
    pq.write_table(pa.Table.from_pylist([_record(i) for i in range(50)]), whole)
    truncated = tmp_path / "cut.parquet"
    truncated.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    messages = _python_errors(truncated)
    assert messages[0] == messages[1]
    assert messages[0].startswith("cut.parquet: is not a readable Parquet file (truncated, or not Parquet): ")
    assert _select(truncated, tmp_path) == 2 and _error(capsys) == messages[0]


def test_a_malformed_valid_labels_file_is_named_before_the_pool_is_read(tmp_path, capsys):
    pool = tmp_path / "pool.jsonl"  # never read: the vocabulary is checked first
    pool.write_text("not a pool\n", encoding="utf-8")
    cases = [
        ("broken.json", '["math",\n "code",\n', "broken.json: line 3: invalid JSON (Expecting value at column 1); "
                                                "--valid-labels is a JSON array of strings or one label per line"),
        ("numbers.json", '["math", 3]', "numbers.json: record 1: must be a string (a label), got number; "
                                        "--valid-labels is a JSON array of strings"),
        ("object.json", '{"labels": ["math"]}', "object.json: holds a JSON object; --valid-labels is a JSON array "
                                                "of strings or one label per line"),
        ("empty.txt", "\n\n", "empty.txt: holds no labels; --valid-labels is a JSON array of strings or one label "
                              "per line"),
    ]
    for name, text, message in cases:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        with pytest.raises(RecordError) as info:
            load_valid_labels(path)
        assert str(info.value) == message
        assert _select(pool, tmp_path, "--valid-labels", str(path)) == 2 and _error(capsys) == message
    (tmp_path / "ok.txt").write_text("math\n code \n", encoding="utf-8")
    assert load_valid_labels(tmp_path / "ok.txt") == ["math", "code"]


def test_an_npz_with_object_ids_or_a_broken_archive_is_named(tmp_path, capsys):
    pool = _jsonl(tmp_path / "pool.jsonl", [{"id": f"s{i}", "messages": _messages(i)} for i in range(4)])
    objects = tmp_path / "objects.npz"
    np.savez(objects, ids=np.array([f"s{i}" for i in range(4)], dtype=object), embeddings=np.eye(4))
    message = ("objects.npz: array 'ids' is an object array (Python objects, read only with pickle, which infosift "
               "never loads); save it as strings: np.savez(..., ids=np.asarray(ids, dtype=str))")
    with pytest.raises(ValueError) as info:
        load_embeddings_file(objects, ["s0"])
    assert str(info.value) == message
    with pytest.raises(ValueError) as info:
        load_pool_view(pool, embeddings_path=objects)
    assert str(info.value) == message
    assert _select(pool, tmp_path, "--embeddings", str(objects)) == 2 and _error(capsys) == message

    good = tmp_path / "good.npz"
    np.savez(good, ids=np.array([f"s{i}" for i in range(4)]), embeddings=np.eye(4))
    cut = tmp_path / "cut.npz"
    cut.write_bytes(good.read_bytes()[:100])
    assert _select(pool, tmp_path, "--embeddings", str(cut)) == 2
    assert _error(capsys).startswith("cut.npz: is not a readable .npz archive (truncated, or not .npz): ")
    assert _select(pool, tmp_path, "--embeddings", str(good)) == 0


# ------------------------------------------------------------------------------------------ 4. what a file holds


def test_one_json_object_in_a_json_file_says_what_it_holds(tmp_path, capsys):
    path = tmp_path / "one.json"
    path.write_text(json.dumps(_record(0), indent=2), encoding="utf-8")
    lines = len(path.read_text().splitlines())
    message = (f"one.json: holds one JSON object (keys 'id', 'messages', 'embedding') over {lines} lines; a .json "
               "pool is a JSON array of records, or one JSON object per line (JSON Lines)")
    for on_error in ("raise", "skip"):
        assert _python_errors(path, on_error) == [message, message]
    assert _select(path, tmp_path) == 2 and _error(capsys) == message
    path.write_text(json.dumps(_record(0)), encoding="utf-8")  # on one line it is JSON Lines: one record
    assert list(load_pool_view(path)[0].ids) == ["s0"]


def test_a_json_array_in_a_jsonl_file_says_what_it_holds(tmp_path, capsys):
    records = [_record(i) for i in range(3)]
    pretty = tmp_path / "pretty.jsonl"
    pretty.write_text(json.dumps(records, indent=2), encoding="utf-8")
    lines = len(pretty.read_text().splitlines())
    message = (f"pretty.jsonl: holds one JSON array of 3 value(s) over {lines} lines; a .jsonl pool has one JSON "
               "object per line (name it .json to read it as a JSON array of records)")
    assert _python_errors(pretty) == [message, message]
    assert _select(pretty, tmp_path) == 2 and _error(capsys) == message

    one_line = tmp_path / "one_line.jsonl"
    one_line.write_text(json.dumps(records) + "\n", encoding="utf-8")
    message = ("one_line.jsonl: line 1: is a JSON array of 3 value(s), not an object; a .jsonl pool has one JSON "
               "object per line")
    assert _python_errors(one_line) == [message, message]
    assert _select(one_line, tmp_path) == 2 and _error(capsys) == message
    subset = tmp_path / "subset.jsonl"
    subset.write_text('["s0", "s1"]\n', encoding="utf-8")
    pool = _jsonl(tmp_path / "pool.jsonl", records)
    assert main(["measure", "--pool", str(pool), "--subset", str(subset), "--metrics", "distsum_cosine"]) == 2
    assert _error(capsys) == ("subset.jsonl: line 1: is a JSON array of 2 value(s), not an object; a .jsonl subset "
                              "has one JSON object per line")


def test_an_invalid_line_later_in_a_jsonl_file_is_still_invalid_json(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text(json.dumps(_record(0)) + "\n{broken\n", encoding="utf-8")
    assert _python_errors(path) == ["p.jsonl: line 2: invalid JSON (Expecting property name enclosed in double "
                                    "quotes at column 2)"] * 2


# ------------------------------------------------------------------------------------------ 5. text-only records


def test_text_content_id_is_the_sha1_of_the_texts_json():
    assert text_content_id("hello") == hashlib.sha1(b'"hello"').hexdigest()[:16]
    assert text_content_id("caf\u00e9") == hashlib.sha1('"caf\u00e9"'.encode()).hexdigest()[:16]
    conversation = [{"role": "user", "content": "hello"}]
    assert text_content_id("hello") != content_id(conversation)


def test_records_without_ids_get_the_content_id_of_their_text(tmp_path, caplog):
    rows = [{"body": f"text {i}", "score": float(i)} for i in range(4)] + [{"body": "text 1", "score": 1.0}]
    path = _jsonl(tmp_path / "texts.jsonl", rows)
    view, records = load_pool_view(path, text_field="body")
    assert list(view.ids) == [text_content_id(f"text {i}") for i in range(4)]  # the repeat of "text 1" dropped
    assert view.texts == [f"text {i}" for i in range(4)] and len(records) == 4
    assert "dropped 1 exact duplicate" in caplog.text
    # without --text-field, a top-level "text" is the record's text
    plain = _jsonl(tmp_path / "plain.jsonl", [{"text": "alpha"}, {"text": "beta"}])
    assert list(load_pool_view(plain)[0].ids) == [text_content_id("alpha"), text_content_id("beta")]

    out = tmp_path / "out.jsonl"
    assert main(["select", "--method", "random", "--pool", str(path), "--text-field", "body", "--budget", "4",
                 "--out", str(out)]) == 0
    picked = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(record["id"] for record in picked) == sorted(text_content_id(f"text {i}") for i in range(4))
    assert all(record["id"] == text_content_id(record["body"]) for record in picked)


def test_a_record_with_an_empty_text_and_no_id_is_named(tmp_path, capsys):
    path = _jsonl(tmp_path / "texts.jsonl", [{"body": "fine"}, {"body": "  "}])
    message = ("texts.jsonl: line 2: field 'id' is missing, and the record has no conversation (messages, "
               "conversations, dialogs, conversation or instruction + output) and an empty text field 'body' to "
               "derive a content id from")
    with pytest.raises(RecordError) as info:
        load_pool_view(path, text_field="body")
    assert str(info.value) == message
    assert _select(path, tmp_path, "--text-field", "body", budget=1) == 2 and _error(capsys) == message


# ------------------------------------------------------------------------------------------ 6. NovelSelect's K


def _embedded_pool(path: Path, n: int) -> Path:
    rng = np.random.default_rng(3)
    return _jsonl(path, [{"id": f"s{i}", "embedding": rng.normal(size=4).round(4).tolist()} for i in range(n)])


def test_novelselect_on_a_pool_smaller_than_its_default_k_names_the_parameter(tmp_path, capsys):
    pool = _embedded_pool(tmp_path / "small.jsonl", 6)
    message = ("novelselect: the density's neighbour count K = 10 (set with --param neighbors=K, or "
               "NovelSelectParams(neighbors=K) in Python) must be at most 5 for a pool of 6 samples (K + 1 nearest "
               "rows are searched, the first being the sample itself); lower it, e.g. --param neighbors=5")
    view, _ = load_pool_view(pool)
    with pytest.raises(ValueError) as info:
        run_selector("novelselect", view, 3, seed=0)
    assert str(info.value) == message
    assert _select(pool, tmp_path, method="novelselect", budget=3) == 2 and _error(capsys) == message
    assert _select(pool, tmp_path, "--param", "neighbors=5", method="novelselect", budget=3) == 0
    assert _select(pool, tmp_path, "--param", "neighbors=0", method="novelselect", budget=3) == 2
    assert _error(capsys) == ("novelselect: the density's neighbour count K (set with --param neighbors=K, or "
                              "NovelSelectParams(neighbors=K) in Python) must be at least 1, got 0")


def test_novelselect_counts_distinct_embeddings_for_k(tmp_path):
    rows = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]] * 3, dtype=np.float32)  # 9 samples, 3 distinct
    view = PoolView(ids=[f"s{i}" for i in range(9)], embeddings=rows)
    with pytest.raises(ValueError) as info:
        run_selector("novelselect", view, 2, seed=0, params={"neighbors": "4"})
    assert str(info.value) == ("novelselect: the density's neighbour count K = 4 (set with --param neighbors=K, or "
                               "NovelSelectParams(neighbors=K) in Python) must be at most 2 for a pool of 9 samples, "
                               "3 distinct embeddings (K + 1 nearest rows are searched, the first being the sample "
                               "itself); lower it, e.g. --param neighbors=2")
    assert len(run_selector("novelselect", view, 2, seed=0, params={"neighbors": "2"}).ids) == 2
    single = PoolView(ids=["a", "b"], embeddings=np.ones((2, 2), dtype=np.float32))
    with pytest.raises(ValueError, match=r"^novelselect: the density needs at least 2 distinct embeddings .* the "
                                         r"pool has 2 samples, 1 distinct embeddings$"):
        run_selector("novelselect", single, 1, seed=0, params={"neighbors": "1"})


def test_novelsum_on_a_small_pool_names_its_parameter(tmp_path, capsys):
    pool = _embedded_pool(tmp_path / "small.jsonl", 6)
    subset = _jsonl(tmp_path / "subset.jsonl", [{"id": "s0"}, {"id": "s1"}])
    assert main(["measure", "--pool", str(pool), "--subset", str(subset), "--metrics", "novelsum"]) == 2
    assert _error(capsys) == ("novelsum: the density's neighbour count K = 10 (set with --param novelsum.k=K, or "
                              "NovelSumParams(k=K) in Python) must be at most 5 for a pool of 6 samples (K + 1 "
                              "nearest rows are searched, the first being the sample itself); lower it, e.g. "
                              "--param novelsum.k=5")
    assert main(["measure", "--pool", str(pool), "--subset", str(subset), "--metrics", "novelsum", "--param",
                 "novelsum.k=5"]) == 0
