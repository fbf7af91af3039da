"""Raw records from files (JSON array, JSONL, Parquet) and Hugging Face datasets, each with its position.

Every reader yields ``(where, record)`` where ``where`` names the file (its base name) and the position, e.g.
``"pool.jsonl: line 3"`` (1-based), ``"pool.json: record 17"`` (0-based index), ``"pool.parquet: row 5"``
(0-based) or ``"tatsu-lab/alpaca[train]: row 5"``. JSONL and Parquet are streamed (one line / one record
batch at a time), so million-row pools never sit in memory as raw text; a JSON array is parsed whole.
A ``.json`` file whose first non-blank character is ``{`` is read as JSONL (a common mislabelling).

What is refused, each named by file (and line or row): a path that is a folder, a file with no records (empty, only
blank lines, ``[]``, zero Parquet rows), a JSONL file whose every line was skipped, a JSONL line that is not a JSON
object, a file that holds one JSON value spread over lines where JSON Lines are expected (a pretty-printed object or
array: said so, with what is expected), and a Parquet file that cannot be read (truncated or not Parquet).
"""

from __future__ import annotations

import codecs
import contextlib
import gc
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from selection_ops.pool.errors import RecordError, every_record_skipped, is_object, json_type_name

logger = logging.getLogger(__name__)

PARQUET_SUFFIXES = (".parquet", ".pq")
PARQUET_BATCH_ROWS = 8192
POOL_FILE_KINDS = "a .json, .jsonl or .parquet file"
_STRUCTURE_CHECK_MAX_BYTES = 256 * 2**20  # a file this large is not parsed whole just to word an error


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while building millions of small dicts and lists.

    Each collection walks every live container, so with the collector on, loading a large pool spends about
    half its time in repeated full scans (measured: 300K JSONL records, 28 s -> 14 s). The records hold no
    reference cycles, so nothing is left for the collector to find; it is re-enabled on exit.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


DEFAULT_ENCODING = "utf-8"


def require_input_file(path: str | Path, what: str, expected: str = POOL_FILE_KINDS) -> Path:
    """``path`` as a Path when it is a file; else FileNotFoundError ``"<what> file not found: <path>"`` or, for a
    folder, IsADirectoryError ``"<what> <path> is a folder; expected <expected>"`` (``what``: "pool",
    "valid-labels", "embeddings file", ...)."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{what} {path} is a folder; expected {expected}")
    if not path.is_file():
        raise FileNotFoundError(f"{what if what.endswith('file') else what + ' file'} not found: {path}")
    return path


def _ascii_compatible(encoding: str) -> bool:
    """Whether ``encoding`` writes ``\\n`` as the single byte 0x0A (so a file can be split into lines as bytes)."""
    name = codecs.lookup(encoding).name
    return not name.startswith(("utf-16", "utf-32"))


def _first_char(path: Path, encoding: str = DEFAULT_ENCODING) -> str:
    with path.open("r", encoding=encoding, errors="replace") as handle:
        while chunk := handle.read(4096):
            stripped = chunk.lstrip("\ufeff \t\r\n")
            if stripped:
                return stripped[0]
    return ""


def file_kind(path: Path, encoding: str = DEFAULT_ENCODING) -> str:
    """"parquet", "jsonl" or "json" (array), from the suffix and, for .json, the first character."""
    suffix = path.suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    if suffix == ".jsonl":
        return "jsonl"
    if suffix == ".json":
        return "json" if _first_char(path, encoding) in ("[", "") else "jsonl"
    raise ValueError(f"{path}: unknown pool file type {suffix!r}; expected .json, .jsonl or .parquet")


def _decode_problem(error: UnicodeDecodeError, encoding: str, offset: int = 0) -> str:
    """``"is not valid utf-8 (byte 0xff at column 12)"`` with the hint that fixes it."""
    byte = error.object[error.start:error.start + 1].hex()
    return (f"is not valid {encoding} (byte 0x{byte} at column {error.start - offset + 1}); pass --encoding "
            "(e.g. latin-1, cp1252, utf-16) or --on-error skip to leave such lines out")


def _parse_line(line: str, where: str) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError as error:
        raise RecordError(where, f"invalid JSON ({error.msg} at column {error.colno})") from None


def _text_lines(handle: Any, path: Path, encoding: str) -> Iterator[str | bytes]:
    """The handle's lines; a decoding error of a text-mode handle (decoded in chunks) names the line it is near."""
    line_number = 0
    while True:
        try:
            line = next(handle)
        except StopIteration:
            return
        except UnicodeDecodeError as error:
            raise RecordError(f"{path.name}: near line {line_number + 1}",
                              f"is not valid {encoding} ({error.reason}); pass the file's --encoding") from None
        line_number += 1
        yield line


def _jsonl_expected(path: Path, what: str) -> str:
    """What a file read as JSON Lines must hold, in the words of its suffix."""
    if path.suffix.lower() == ".jsonl":
        return f"a .jsonl {what} has one JSON object per line"
    return f"a {path.suffix.lower()} {what} is a JSON array of records, or one JSON object per line (JSON Lines)"


def _whole_file_structure(path: Path, encoding: str, what: str) -> RecordError | None:
    """For a file read as JSON Lines whose first line is not JSON: a RecordError saying what the whole file holds
    (one object or one array spread over lines) and what is expected; None when the whole file is not JSON either."""
    if path.stat().st_size > _STRUCTURE_CHECK_MAX_BYTES:
        return None
    try:
        text = path.read_text(encoding=encoding).lstrip("\ufeff")
        value = json.loads(text)
    except ValueError:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return None
    lines = text.count("\n") + (not text.endswith("\n"))
    hint = ""
    if isinstance(value, list):
        holds = f"holds one JSON array of {len(value)} value(s) over {lines} lines"
        if path.suffix.lower() == ".jsonl":
            hint = " (name it .json to read it as a JSON array of records)"
    elif isinstance(value, dict):
        keys = ", ".join(repr(key) for key in list(value)[:5]) + (", ..." if len(value) > 5 else "")
        holds = f"holds one JSON object (keys {keys}) over {lines} lines"
    else:
        holds = f"holds one JSON {json_type_name(value)}"
    return RecordError(path.name, f"{holds}; {_jsonl_expected(path, what)}{hint}")


def iter_jsonl(path: Path, *, skip_invalid: bool = False, encoding: str = DEFAULT_ENCODING,
               what: str = "pool") -> Iterator[tuple[str, Any]]:
    """One JSON object per non-blank line; invalid JSON, a value that is not an object, or a line that is not valid
    ``encoding`` is a RecordError naming the line, or with ``skip_invalid`` a warning naming it (the line is then left
    out and counted; the counts are logged at the end, and a file whose every line was skipped is an error naming
    the first). A first line that is not JSON because the whole file is one pretty-printed object or array is an
    error saying so, whatever ``skip_invalid``; ``what`` names the file's role in messages ("pool", "subset file").

    Lines are split as bytes and decoded one by one, so a bad byte names its line (and only that line is lost
    when skipping); UTF-16/32 files are read as text (their newline is not one byte).
    """
    skipped = {"undecodable": 0, "invalid JSON": 0, "not-an-object": 0}
    first_skip: RecordError | None = None
    first_line_seen = False
    yielded = 0
    with path.open("rb" if _ascii_compatible(encoding) else "r",
                   **({} if _ascii_compatible(encoding) else {"encoding": encoding})) as handle:
        for line_number, raw in enumerate(_text_lines(handle, path, encoding), start=1):
            where = f"{path.name}: line {line_number}"
            try:
                line = raw.decode(encoding) if isinstance(raw, bytes) else raw
                if line_number == 1 and line.startswith("\ufeff"):  # a byte-order mark is not content
                    line = line[1:]
            except UnicodeDecodeError as error:
                problem = RecordError(where, _decode_problem(error, encoding))
                if not skip_invalid:
                    raise problem from None
                logger.warning("skipping %s", problem)
                skipped["undecodable"] += 1
                first_skip = first_skip or problem
                continue
            if not line.strip():
                continue
            try:
                value = _parse_line(line, where)
            except RecordError as problem:
                if not first_line_seen:  # one object or array spread over lines: say what the file holds
                    structure = _whole_file_structure(path, encoding, what)
                    if structure is not None:
                        raise structure from None
                first_line_seen = True
                if not skip_invalid:
                    raise
                logger.warning("skipping %s", problem)
                skipped["invalid JSON"] += 1
                first_skip = first_skip or problem
                continue
            first_line_seen = True
            if not is_object(value):
                size = f" of {len(value)} value(s)" if isinstance(value, list) else ""
                problem = RecordError(where, f"is a JSON {json_type_name(value)}{size}, not an object; "
                                             f"{_jsonl_expected(path, what)}")
                if not skip_invalid:
                    raise problem
                logger.warning("skipping %s", problem)
                skipped["not-an-object"] += 1
                first_skip = first_skip or problem
                continue
            yielded += 1
            yield where, value
    counts = ", ".join(f"{count} {reason} line(s)" for reason, count in skipped.items() if count)
    if first_skip is not None and not yielded:
        raise every_record_skipped(path.name, counts, first_skip, unit="line")
    if counts:
        logger.warning("%s: skipped %s", path.name, counts)


def iter_json_array(path: Path, encoding: str = DEFAULT_ENCODING) -> Iterator[tuple[str, Any]]:
    """The elements of a top-level JSON array, with their 0-based index (a bad byte names its line)."""
    data_bytes = path.read_bytes()
    try:
        text = data_bytes.decode(encoding)
    except UnicodeDecodeError as error:
        line = data_bytes.count(b"\n", 0, error.start) + 1
        line_start = data_bytes.rfind(b"\n", 0, error.start) + 1
        raise RecordError(f"{path.name}: line {line}", _decode_problem(error, encoding, line_start).replace(
            " or --on-error skip to leave such lines out", " (a JSON array is decoded whole: no line can be skipped)"
        )) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        return  # no records: iter_file_records says the file is empty
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise RecordError(path.name, f"invalid JSON ({error.msg} at line {error.lineno} column "
                                     f"{error.colno})") from None
    if not isinstance(data, list):
        raise RecordError(path.name, f"holds one JSON {json_type_name(data)}; a .json file is a JSON array of records")
    for index, record in enumerate(data):
        yield f"{path.name}: record {index}", record


def iter_parquet(path: Path) -> Iterator[tuple[str, Any]]:
    """Rows of a Parquet file as dicts, read batch by batch; a file that cannot be read (truncated, not Parquet, a
    corrupt page) is a RecordError naming the file (and the rows being read)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    row = 0
    try:
        batches = pq.ParquetFile(path).iter_batches(batch_size=PARQUET_BATCH_ROWS)
    except (pa.ArrowException, OSError) as error:
        raise RecordError(path.name, f"is not a readable Parquet file (truncated, or not Parquet): {error}") from None
    while True:
        try:
            batch = next(batches, None)
        except (pa.ArrowException, OSError) as error:
            raise RecordError(f"{path.name}: rows from {row}", f"cannot be read (a corrupt Parquet page?): "
                                                                f"{error}") from None
        if batch is None:
            return
        for record in batch.to_pylist():
            yield f"{path.name}: row {row}", record
            row += 1


def _no_records(records: Iterator[tuple[str, Any]], path: Path, kind: str,
                what: str) -> Iterator[tuple[str, Any]]:
    """``records`` unchanged; when there are none, a RecordError saying the file holds no records and why."""
    count = 0
    for item in records:
        count += 1
        yield item
    if count == 0:
        why = ("the file is empty" if path.stat().st_size == 0 else
               {"json": "an empty JSON array", "jsonl": "only blank lines", "parquet": "0 rows"}[kind])
        raise RecordError(path.name, f"holds no records ({why}); a {what} needs at least one record")


def iter_file_records(path: str | Path, *, skip_invalid: bool = False, encoding: str = DEFAULT_ENCODING,
                      what: str = "pool") -> Iterator[tuple[str, Any]]:
    """``(where, record)`` for every record of a JSON-array, JSONL or Parquet file in ``encoding`` (Parquet
    strings are always UTF-8). ``skip_invalid``: JSONL lines that are not valid JSON, not a JSON object or not
    valid ``encoding`` are logged, counted and left out instead of raising. A path that is a folder or missing,
    and a file that yields no record, are errors naming it; ``what`` is the file's role in messages ("pool",
    "subset file", "embeddings file")."""
    path = require_input_file(path, what)
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ValueError(f"unknown encoding {encoding!r} (Python codec names: utf-8, latin-1, cp1252, utf-16, "
                         "...)") from None
    kind = file_kind(path, encoding)
    logger.info("reading %s (%s, %s)", path, kind, "parquet" if kind == "parquet" else encoding)
    if kind == "parquet":
        records = iter_parquet(path)
    elif kind == "jsonl":
        records = iter_jsonl(path, skip_invalid=skip_invalid, encoding=encoding, what=what)
    else:
        records = iter_json_array(path, encoding)
    return _no_records(records, path, kind, what)


def _is_saved_dataset(path: Path) -> bool:
    """True for a folder written by ``Dataset.save_to_disk`` / ``DatasetDict.save_to_disk``."""
    return path.is_dir() and ((path / "state.json").exists() or (path / "dataset_dict.json").exists())


def iter_hf_records(dataset_id: str, *, split: str = "train", config: str | None = None,
                    data_files: str | list[str] | None = None,
                    trust_remote_code: bool = False) -> Iterator[tuple[str, Any]]:
    """Rows of a Hugging Face dataset: a Hub id (``tatsu-lab/alpaca``), a packaged builder with ``data_files``
    (``"json"``), a local folder of data files, a local loading script (``trust_remote_code``), or a
    ``save_to_disk`` folder (read with ``load_from_disk``).

    A Hub id needs the network (or a warm ``HF_DATASETS_CACHE``); any failure is re-raised naming the dataset.
    """
    import datasets

    label = f"{dataset_id}[{split}]"
    local = Path(dataset_id)
    try:
        if _is_saved_dataset(local):
            logger.info("loading saved dataset folder %s split %s", local, split)
            dataset = datasets.load_from_disk(str(local))
            if isinstance(dataset, datasets.DatasetDict):
                if split not in dataset:
                    raise ValueError(f"{local}: no split {split!r}; splits: {sorted(dataset)}")
                dataset = dataset[split]
        else:
            logger.info("loading Hugging Face dataset %s (config %s, split %s)", dataset_id, config, split)
            # trust_remote_code is passed only when wanted: datasets >= 4 dropped scripts and the argument.
            extra = {"trust_remote_code": True} if trust_remote_code else {}
            dataset = datasets.load_dataset(dataset_id, name=config, split=split, data_files=data_files, **extra)
    except (FileNotFoundError, ValueError):
        raise
    except Exception as error:  # network, auth (gated datasets), missing builder: one line naming the dataset
        raise ValueError(f"could not load Hugging Face dataset {dataset_id!r} (split {split!r}): "
                         f"{type(error).__name__}: {error}") from error
    for row, record in enumerate(dataset):
        yield f"{label}: row {row}", record
