"""Raw records from files (JSON array, JSONL, Parquet) and Hugging Face datasets, each with its position.

Every reader yields ``(where, record)`` where ``where`` names the file (its base name) and the position, e.g.
``"pool.jsonl: line 3"`` (1-based), ``"pool.json: record 17"`` (0-based index), ``"pool.parquet: row 5"``
(0-based) or ``"tatsu-lab/alpaca[train]: row 5"``. JSONL and Parquet are streamed (one line / one record
batch at a time), so million-row pools never sit in memory as raw text; a JSON array is parsed whole.
A ``.json`` file whose first non-blank character is ``{`` is read as JSONL (a common mislabelling).
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

from selection_ops.pool.errors import RecordError

logger = logging.getLogger(__name__)

PARQUET_SUFFIXES = (".parquet", ".pq")
PARQUET_BATCH_ROWS = 8192


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


def iter_jsonl(path: Path, *, skip_invalid: bool = False,
               encoding: str = DEFAULT_ENCODING) -> Iterator[tuple[str, Any]]:
    """One parsed JSON value per non-blank line; invalid JSON or a line that is not valid ``encoding`` is a
    RecordError naming the line, or with ``skip_invalid`` a warning naming it (the line is then left out and
    counted; the counts are logged at the end).

    Lines are split as bytes and decoded one by one, so a bad byte names its line (and only that line is lost
    when skipping); UTF-16/32 files are read as text (their newline is not one byte).
    """
    skipped = {"undecodable": 0, "invalid JSON": 0}
    with path.open("rb" if _ascii_compatible(encoding) else "r",
                   **({} if _ascii_compatible(encoding) else {"encoding": encoding})) as handle:
        for line_number, raw in enumerate(_text_lines(handle, path, encoding), start=1):
            where = f"{path.name}: line {line_number}"
            try:
                line = raw.decode(encoding) if isinstance(raw, bytes) else raw
                if line_number == 1 and line.startswith("\ufeff"):  # a byte-order mark is not content
                    line = line[1:]
            except UnicodeDecodeError as error:
                if not skip_invalid:
                    raise RecordError(where, _decode_problem(error, encoding)) from None
                logger.warning("skipping %s: %s", where, _decode_problem(error, encoding))
                skipped["undecodable"] += 1
                continue
            if not line.strip():
                continue
            try:
                value = _parse_line(line, where)
            except RecordError as problem:
                if not skip_invalid:
                    raise
                logger.warning("skipping %s", problem)
                skipped["invalid JSON"] += 1
                continue
            yield where, value
    if any(skipped.values()):
        logger.warning("%s: skipped %s", path.name,
                       ", ".join(f"{count} {reason} line(s)" for reason, count in skipped.items() if count))


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
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise RecordError(path.name, f"invalid JSON ({error.msg} at line {error.lineno} column "
                                     f"{error.colno})") from None
    if not isinstance(data, list):
        raise RecordError(path.name, f"must hold a JSON array of records, got {type(data).__name__}")
    for index, record in enumerate(data):
        yield f"{path.name}: record {index}", record


def iter_parquet(path: Path) -> Iterator[tuple[str, Any]]:
    """Rows of a Parquet file as dicts, read batch by batch."""
    import pyarrow.parquet as pq

    row = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=PARQUET_BATCH_ROWS):
        for record in batch.to_pylist():
            yield f"{path.name}: row {row}", record
            row += 1


def iter_file_records(path: str | Path, *, skip_invalid: bool = False,
                      encoding: str = DEFAULT_ENCODING) -> Iterator[tuple[str, Any]]:
    """``(where, record)`` for every record of a JSON-array, JSONL or Parquet file in ``encoding`` (Parquet
    strings are always UTF-8). ``skip_invalid``: JSONL lines that are not valid JSON or not valid ``encoding``
    are logged, counted and left out instead of raising."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"pool file not found: {path}")
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ValueError(f"unknown encoding {encoding!r} (Python codec names: utf-8, latin-1, cp1252, utf-16, "
                         "...)") from None
    kind = file_kind(path, encoding)
    logger.info("reading %s (%s, %s)", path, kind, "parquet" if kind == "parquet" else encoding)
    if kind == "parquet":
        return iter_parquet(path)
    if kind == "jsonl":
        return iter_jsonl(path, skip_invalid=skip_invalid, encoding=encoding)
    return iter_json_array(path, encoding)


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
