"""Load a user's annotated pool file (JSONL, JSON array or Parquet records) into a ``PoolView`` for the CLI.

Generic records: one object per sample with

- ``id`` (str or int, unique; a record without ``id`` / ``_id`` gets the content id of its conversation,
  ``selection_ops.pool.conversation.content_id``, as ``load_pool`` gives it, or, with no conversation, of its text
  (``text_field``, else ``text``; ``text_content_id``), and a later record with the same conversation or text is
  dropped and counted; with an explicit ``id_field`` the field is required),
- ``labels``: list of strings (tags), ``score``: number, ``embedding``: list of numbers, all optional;
- any other fields. Field names are overridable and may be dotted paths into nested objects
  (``--labels-field annotation.tags``).

A column exists when any record has the field; then every record must have it, with the right type (an error
names file, line and field). Texts: ``text_field`` when given, else the record's conversation (any format that
``selection_ops.pool.formats`` detects: ``messages``, ``dialogs``, ``conversations``, ``instruction``/``output``,
``conversation``) rendered with ``text_for_metrics``, else a top-level ``text`` string, else none. Extra numeric
columns: every ``extra_fields`` name (required in every record), plus every other top-level field whose value is
a number in every record (so ``ifd``, ``deita_score``, ``superfilter_ratio`` reach the selectors unasked).
Numbers are checked where they enter: scores and extras finite (and the score within ``score_range`` when declared),
embedding rows finite, of one dimension and not all zero (a zero row has no direction: every cosine with it is
undefined).

MIG's annotated format (auto-detected: records with ``dialogs`` and ``annotation``) maps as:

- id = ``_id`` (unless the record has ``id_field``), labels = ``annotation.instag.content``;
- score = mean over turns t of ``annotation.deita.quality_scores[t] * complexity_scores[t]`` (MIG's convention),
  extra ``deita_score`` = the sum over turns of the same product (DEITA's convention);
- extra ``ifd`` = ``ifd_score.content`` (mean when a list) and ``car_score`` = mean of ``annotation.CaR``, when
  present; texts = the dialogs rendered with ``text_for_metrics``.
  Explicitly overridden ``labels_field`` / ``score_field`` win over these defaults.

Embeddings: from ``embedding_field`` (list of floats per record), or from ``embeddings_path`` aligned by id:
a ``.npz`` holding ``ids`` (n,) and ``embeddings`` (n, d), or a JSONL / Parquet file of records with ``id`` and
``embedding``. Every pool id must have a row there; extra rows are ignored. The file wins over the field.

``on_error="skip"`` leaves out malformed records (undecodable or invalid JSON lines, wrong or missing field, repeated
id, invalid numbers, an embeddings-file row that is non-finite or all zero) with a warning naming file, line (or
row and id) and field, then a count; the default ``"raise"`` stops at the first one. ``encoding`` (default UTF-8)
is the text encoding of JSON / JSONL files.
"""

from __future__ import annotations

import logging
import math
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from selection_ops.data_model import PoolView
from selection_ops.pool.conversation import content_id, text_content_id, text_for_metrics
from selection_ops.pool.errors import RecordError, every_record_skipped, is_object, json_type_name
from selection_ops.pool.formats import detect_format, parse_record
from selection_ops.pool.readers import DEFAULT_ENCODING, gc_paused, iter_file_records, require_input_file

logger = logging.getLogger(__name__)

OnError = Literal["raise", "skip"]
EMBEDDINGS_FILE_KINDS = "a .npz (arrays 'ids' and 'embeddings') or a .jsonl, .json or .parquet file of records"
_MISSING = object()
# Canonical column names in the per-record value dict (extras use their own names).
_ID, _LABELS, _SCORE, _EMBEDDING, _TEXT = "\0id", "\0labels", "\0score", "\0embedding", "\0text"
_COLUMN_FIELDS = (_LABELS, _SCORE, _EMBEDDING, _TEXT)


def get_path(record: Mapping[str, Any], path: str) -> Any:
    """``record["a"]["b"]`` for ``"a.b"`` (a top-level key containing dots is tried first); _MISSING if absent."""
    if path in record:
        return record[path]
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _number(value: Any, where: str, field: str, finite: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RecordError(where, f"must be a number, got {json_type_name(value)}", field)
    if finite and not math.isfinite(value):
        raise RecordError(where, f"must be a finite number, got {value}", field)
    return float(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _numbers(value: Any, where: str, field: str, finite: bool = True) -> list[float]:
    if value is _MISSING:
        raise RecordError(where, "is missing", field)
    if not isinstance(value, (list, tuple)):
        raise RecordError(where, f"must be an array of numbers, got {json_type_name(value)}", field)
    return [_number(item, where, f"{field}[{i}]", finite) for i, item in enumerate(value)]


def _embedding(value: Any, where: str, field: str) -> list[float]:
    """An embedding row: finite numbers, at least one dimension, not all zero (its direction is what counts)."""
    row = _numbers(value, where, field)
    if not row:
        raise RecordError(where, "is empty (no dimensions)", field)
    if not any(row):
        raise RecordError(where, f"is all zeros ({len(row)} dimensions): cosine similarity to it is undefined", field)
    return row


def invalid_embedding_rows(matrix: np.ndarray) -> dict[int, str]:
    """Rows of ``matrix`` (n, d) that no distance can use: ``{row: "has a non-finite value (nan) at dimension 3"
    | "is all zeros"}``, in row order (vectorised: one pass over the matrix)."""
    finite = np.isfinite(matrix)
    bad: dict[int, str] = {}
    for row in np.flatnonzero(~finite.all(axis=1)).tolist():
        dimension = int(np.flatnonzero(~finite[row])[0])
        bad[row] = f"has a non-finite value ({matrix[row, dimension]}) at dimension {dimension}"
    for row in np.flatnonzero(~np.any(matrix != 0, axis=1)).tolist():
        bad.setdefault(row, f"is all zeros ({matrix.shape[1]} dimensions): cosine similarity to it is undefined")
    return dict(sorted(bad.items()))


def _labels(value: Any, where: str, field: str) -> list[str]:
    if not isinstance(value, (list, tuple)):
        raise RecordError(where, f"must be an array of strings, got {json_type_name(value)}", field)
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise RecordError(where, f"must be a string, got {json_type_name(item)}", f"{field}[{i}]")
    return list(value)


def _sample_id(value: Any, where: str, field: str) -> str:
    if value is _MISSING:
        raise RecordError(where, "is missing", field)
    if isinstance(value, bool) or not isinstance(value, (str, int)) or value == "":
        raise RecordError(where, f"must be a non-empty string or integer id, got {json_type_name(value)}", field)
    return str(value)


def is_mig_record(record: Any) -> bool:
    """MIG's annotated pool format: ``dialogs`` plus an ``annotation`` object."""
    return isinstance(record, Mapping) and "dialogs" in record and isinstance(record.get("annotation"), Mapping)


def _mig_values(record: Mapping[str, Any], where: str, *, override_score: bool) -> dict[str, Any]:
    """score, deita_score, ifd, car_score of one MIG record (see the module doc)."""
    values: dict[str, Any] = {}
    deita = get_path(record, "annotation.deita")
    if deita is not _MISSING and not override_score:
        if not isinstance(deita, Mapping):
            raise RecordError(where, f"must be an object, got {json_type_name(deita)}", "annotation.deita")
        for key in ("quality_scores", "complexity_scores"):
            if key not in deita:
                raise RecordError(where, "is missing", f"annotation.deita.{key}")
        quality = _numbers(deita["quality_scores"], where, "annotation.deita.quality_scores")
        complexity = _numbers(deita["complexity_scores"], where, "annotation.deita.complexity_scores")
        if len(quality) != len(complexity) or not quality:
            raise RecordError(where, f"has {len(quality)} quality and {len(complexity)} complexity scores; need the "
                                     "same positive number (one per turn)", "annotation.deita")
        products = [q * c for q, c in zip(quality, complexity)]
        values[_SCORE] = sum(products) / len(products)
        values["deita_score"] = sum(products)
    ifd = record.get("ifd_score", _MISSING)
    if ifd is not _MISSING and ifd is not None:
        content = ifd.get("content", _MISSING) if isinstance(ifd, Mapping) else ifd
        field = "ifd_score.content" if isinstance(ifd, Mapping) else "ifd_score"
        if isinstance(content, (list, tuple)):
            scores = _numbers(content, where, field)
            values["ifd"] = sum(scores) / len(scores) if scores else _MISSING
        elif content is not _MISSING:
            values["ifd"] = _number(content, where, field)
    car = get_path(record, "annotation.CaR")
    if car is not _MISSING and car is not None:
        scores = _numbers(car, where, "annotation.CaR") if isinstance(car, (list, tuple)) else [
            _number(car, where, "annotation.CaR")]
        if scores:
            values["car_score"] = sum(scores) / len(scores)
    return values


class _RecordParser:
    """Turns one raw record into its column values; holds the field names and the detected layout."""

    def __init__(self, first: Mapping[str, Any], *, id_field: str, labels_field: str, score_field: str,
                 embedding_field: str, text_field: str | None, extra_fields: Sequence[str],
                 score_range: tuple[float, float] | None = None) -> None:
        self.mig = is_mig_record(first)
        self.id_field = id_field
        # The default id field falls back as the pool loader does: "id", then "_id", then the content id.
        self.id_fields = ("id", "_id") if id_field == "id" else (id_field,)
        self.derive_ids = id_field == "id"
        self.id_derived = False  # whether the last record's id is its content id
        self.nonfinite_extras: dict[str, tuple[int, str]] = {}  # field -> (records, first record) of nan / inf
        self.score_range = score_range
        self.labels_field = labels_field
        self.score_field = score_field
        self.override_score = score_field != "score"
        if self.mig:
            if labels_field == "labels":
                self.labels_field = "annotation.instag.content"
            logger.info("detected MIG's annotated format (dialogs + annotation)")
        self.embedding_field = embedding_field
        self.text_field = text_field
        self.extra_fields = tuple(extra_fields)
        self.conversation_format: str | None = None
        try:
            self.conversation_format = detect_format(first, "first record")
        except RecordError:
            self.conversation_format = None
        self.reserved = {*self.id_fields, "_id", self.labels_field.split(".")[0], score_field.split(".")[0],
                         embedding_field.split(".")[0], *(f.split(".")[0] for f in extra_fields)}

    def __call__(self, record: Any, where: str) -> dict[str, Any]:
        if not is_object(record):
            raise RecordError(where, f"must be a JSON object, got {json_type_name(record)}")
        values: dict[str, Any] = {}
        conversation: list | None = None
        values[_ID], conversation = self._id(record, where)
        labels = get_path(record, self.labels_field)
        if labels is not _MISSING:
            values[_LABELS] = _labels(labels, where, self.labels_field)
        score = get_path(record, self.score_field)
        if score is not _MISSING:
            values[_SCORE] = _number(score, where, self.score_field)
        embedding = get_path(record, self.embedding_field)
        if embedding is not _MISSING:
            values[_EMBEDDING] = _embedding(embedding, where, self.embedding_field)
        if self.mig:
            values.update(_mig_values(record, where, override_score=self.override_score))
        if self.score_range is not None and _SCORE in values:
            low, high = self.score_range
            if not low <= values[_SCORE] <= high:
                field = "annotation.deita" if self.mig and not self.override_score else self.score_field
                raise RecordError(where, f"is {values[_SCORE]:g}, outside the declared range [{low:g}, {high:g}]",
                                  field)
        values[_TEXT] = self._text(record, where, conversation)
        for name in self.extra_fields:
            value = get_path(record, name)
            if value is _MISSING:
                raise RecordError(where, "is missing", name)
            values[name] = _number(value, where, name)
        for name, value in record.items():
            if name not in self.reserved and name not in values and _is_number(value):
                values[name] = float(value)
            elif type(value) is float and name not in self.reserved:  # nan / inf: the column cannot be used
                count, first = self.nonfinite_extras.get(name, (0, where))
                self.nonfinite_extras[name] = (count + 1, first)
        return values

    def _id(self, record: Mapping[str, Any], where: str) -> tuple[str, list | None]:
        """The record's own id (first present of ``id_fields``; MIG's ``_id``), else, for the default id field,
        the content id of its conversation (``selection_ops.pool.conversation.content_id``, as ``load_pool``) or,
        for a record without one, of its non-empty text (``text_content_id``: ``text_field``, else ``text``)."""
        self.id_derived = False
        fields = self.id_fields if not (self.mig and self.id_field not in record) else ("_id", *self.id_fields)
        for field in fields:
            value = get_path(record, field)
            if value is _MISSING or (self.derive_ids and value in (None, "")):
                continue
            return _sample_id(value, where, field), None
        if not self.derive_ids:
            raise RecordError(where, "is missing", self.id_field)
        if self.conversation_format is not None:
            conversation = parse_record(record, self.conversation_format, where)
            self.id_derived = True
            return content_id(conversation), conversation
        text = self._text(record, where, None)  # no conversation: the text the view takes (text_field, or 'text')
        if isinstance(text, str) and text.strip():
            self.id_derived = True
            return text_content_id(text), None
        text_name = f"{'an empty' if text is not _MISSING else 'no'} text field '{self.text_field or 'text'}'"
        raise RecordError(where, "is missing, and the record has no conversation (messages, conversations, dialogs, "
                                 f"conversation or instruction + output) and {text_name} to derive a content id from",
                          self.id_field)

    def _text(self, record: Mapping[str, Any], where: str, conversation: list | None) -> Any:
        if self.text_field is not None:
            value = get_path(record, self.text_field)
            if value is _MISSING:
                return _MISSING
            if not isinstance(value, str):
                raise RecordError(where, f"must be a string, got {json_type_name(value)}", self.text_field)
            return value
        if self.conversation_format is not None:
            if conversation is None:
                conversation = parse_record(record, self.conversation_format, where)
            return text_for_metrics(conversation)
        value = record.get("text", _MISSING)
        return value if isinstance(value, str) else _MISSING


class _Skips:
    """Records left out under ``on_error="skip"``: each logged as a warning naming it, then one count at the end."""

    def __init__(self, on_error: OnError) -> None:
        self.on_error = on_error
        self.by_field: dict[str, int] = {}
        self.first: RecordError | None = None

    def __call__(self, error: RecordError) -> None:
        if self.on_error == "raise":
            raise error
        logger.warning("skipping %s", error)
        key = error.field or "record"
        self.by_field[key] = self.by_field.get(key, 0) + 1
        self.first = self.first or error

    def reasons(self) -> str:
        """``"3 record(s) (2 for field 'id', 1 malformed)"``."""
        return f"{sum(self.by_field.values())} record(s) (" + ", ".join(
            f"{count} for field '{field}'" if field != "record" else f"{count} malformed"
            for field, count in sorted(self.by_field.items())) + ")"

    def none_left(self, source: str) -> RecordError:
        """The error for a file whose every record was left out: the count and the first one's reason."""
        assert self.first is not None, "records are only ever dropped through a skip"
        return every_record_skipped(source, self.reasons(), self.first)

    def report(self, source: str, kept: int) -> None:
        if self.by_field:
            logger.warning("%s: left out %s; %d kept (--on-error skip)", source, self.reasons(), kept)


def _read_npz(path: Path) -> tuple[list[str], np.ndarray]:
    """The ``ids`` (as str) and ``embeddings`` (float32) arrays of an ``.npz``; an archive that cannot be read, a
    missing array, an object array (it needs pickle, which is never loaded) or non-numeric embeddings is a
    ValueError naming the file and the array."""
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise ValueError(f"{path.name}: is not a readable .npz archive (truncated, or not .npz): {error}") from None
    with archive:
        missing = [key for key in ("ids", "embeddings") if key not in archive.files]
        if missing:
            raise ValueError(f"{path.name}: .npz must hold arrays 'ids' and 'embeddings'; has {sorted(archive.files)}")
        arrays = {}
        for key in ("ids", "embeddings"):
            try:
                arrays[key] = archive[key]
            except ValueError as error:
                if "allow_pickle" not in str(error):
                    raise ValueError(f"{path.name}: array '{key}' cannot be read: {error}") from None
                raise ValueError(f"{path.name}: array '{key}' is an object array (Python objects, read only with "
                                 "pickle, which infosift never loads); save it as "
                                 + ("strings: np.savez(..., ids=np.asarray(ids, dtype=str))" if key == "ids" else
                                    "numbers: np.savez(..., embeddings=np.asarray(rows, dtype=np.float32))")
                                 ) from None
            except (OSError, EOFError, zipfile.BadZipFile) as error:
                raise ValueError(f"{path.name}: array '{key}' cannot be read (truncated?): {error}") from None
    try:
        matrix = np.asarray(arrays["embeddings"], dtype=np.float32)
    except (TypeError, ValueError):
        raise ValueError(f"{path.name}: array 'embeddings' must hold numbers, got dtype "
                         f"{arrays['embeddings'].dtype}") from None
    return [str(i) for i in arrays["ids"].tolist()], matrix


def _read_embeddings_file(path: Path, ids: Sequence[str], encoding: str) -> tuple[np.ndarray, list[str], str]:
    """(len(ids), d) float32 rows of ``path`` in the order of ``ids``, where each row is in the file, and the
    file's field name. Rows are not checked for values here (``invalid_embedding_rows`` does that)."""
    require_input_file(path, "embeddings file", EMBEDDINGS_FILE_KINDS)
    if path.suffix.lower() == ".npz":
        field = "embeddings"
        file_ids, matrix = _read_npz(path)
        if matrix.ndim != 2 or len(matrix) != len(file_ids):
            raise ValueError(f"{path.name}: 'embeddings' must be (n, d) with n = len(ids) = {len(file_ids)}, "
                             f"got shape {matrix.shape}")
        file_wheres = [f"{path.name}: row {row} (id {sample_id!r})" for row, sample_id in enumerate(file_ids)]
    else:
        field = "embedding"
        file_ids, rows, file_wheres = [], [], []
        for where, record in iter_file_records(path, encoding=encoding, what="embeddings file"):
            if not isinstance(record, Mapping):
                raise RecordError(where, f"must be a JSON object, got {json_type_name(record)}")
            file_ids.append(_sample_id(record.get("id", _MISSING), where, "id"))
            rows.append(_numbers(record.get("embedding", _MISSING), where, "embedding", finite=False))
            file_wheres.append(f"{where} (id {file_ids[-1]!r})")
            if len(rows[-1]) != len(rows[0]):
                raise RecordError(where, f"has {len(rows[-1])} dimensions, the first row has {len(rows[0])}",
                                  "embedding")
        matrix = np.asarray(rows, dtype=np.float32).reshape(len(rows), -1)
    if matrix.shape[1] == 0:
        raise ValueError(f"{path.name}: the embeddings have no dimensions (shape {matrix.shape})")
    position = {sample_id: row for row, sample_id in enumerate(file_ids)}
    missing = [sample_id for sample_id in ids if sample_id not in position]
    if missing:
        shown = ", ".join(repr(i) for i in missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise ValueError(f"{path.name}: no embedding for {len(missing)} pool id(s): {shown}")
    extra = len(position) - len(set(ids))
    if extra > 0:
        logger.info("%s: ignoring %d embeddings of ids not in the pool", path.name, extra)
    rows_in_file = [position[sample_id] for sample_id in ids]
    return matrix[rows_in_file], [file_wheres[row] for row in rows_in_file], field


def load_embeddings_file(path: str | Path, ids: Sequence[str], *, encoding: str = DEFAULT_ENCODING) -> np.ndarray:
    """(len(ids), d) float32 rows of ``path`` in the order of ``ids`` (see the module doc for the file layouts).

    A row with a non-finite value or all zeros is a RecordError naming the file, row, id and field."""
    matrix, wheres, field = _read_embeddings_file(Path(path), ids, encoding)
    for row, problem in invalid_embedding_rows(matrix).items():
        raise RecordError(wheres[row], problem, field)
    return matrix


def load_pool_view(path: str | Path, *, id_field: str = "id", labels_field: str = "labels",
                   score_field: str = "score", embedding_field: str = "embedding",
                   embeddings_path: str | Path | None = None, text_field: str | None = None,
                   extra_fields: Iterable[str] = (), on_error: OnError = "raise",
                   score_range: tuple[float, float] | None = None,
                   encoding: str = DEFAULT_ENCODING) -> tuple[PoolView, list[dict]]:
    """The pool file at ``path`` as a PoolView plus its raw records (kept ones, in file order, aligned with the
    view's rows). See the module doc for fields, ids, MIG's format, embeddings and ``on_error``.

    ``score_range``: the declared (low, high) of the score, inclusive; a score outside it is a RecordError.
    ``encoding``: of JSON / JSONL files (Parquet is always UTF-8).
    """
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    if score_range is not None and not (math.isfinite(score_range[0]) and math.isfinite(score_range[1])
                                        and score_range[0] <= score_range[1]):
        raise ValueError(f"score range must be two finite numbers low <= high, got {score_range}")
    with gc_paused():
        return _load_pool_view(Path(path), id_field=id_field, labels_field=labels_field, score_field=score_field,
                               embedding_field=embedding_field, embeddings_path=embeddings_path,
                               text_field=text_field, extra_fields=tuple(extra_fields), on_error=on_error,
                               score_range=score_range, encoding=encoding)


def _load_pool_view(path: Path, *, id_field: str, labels_field: str, score_field: str, embedding_field: str,
                    embeddings_path: str | Path | None, text_field: str | None, extra_fields: tuple[str, ...],
                    on_error: OnError, score_range: tuple[float, float] | None,
                    encoding: str) -> tuple[PoolView, list[dict]]:
    parser: _RecordParser | None = None
    kept: list[tuple[str, dict, dict[str, Any]]] = []  # (where, raw record, values)
    first_where: dict[str, str] = {}
    skip = _Skips(on_error)
    derived = duplicates = 0
    for where, record in iter_file_records(path, skip_invalid=on_error == "skip", encoding=encoding):
        try:
            if parser is None and isinstance(record, Mapping):
                parser = _RecordParser(record, id_field=id_field, labels_field=labels_field,
                                       score_field=score_field, embedding_field=embedding_field,
                                       text_field=text_field, extra_fields=tuple(extra_fields),
                                       score_range=score_range)
            if parser is None:
                raise RecordError(where, f"must be a JSON object, got {json_type_name(record)}")
            values = parser(record, where)
            sample_id = values[_ID]
            if sample_id in first_where:
                if parser.id_derived:  # the same conversation again: dropped and counted, as load_pool does
                    duplicates += 1
                    continue
                raise RecordError(where, f"repeats id {sample_id!r} of {first_where[sample_id]}", parser.id_field)
        except RecordError as error:
            skip(error)
            continue
        derived += parser.id_derived
        first_where[sample_id] = where
        kept.append((where, record if type(record) is dict else dict(record), values))
    if derived:
        logger.info("%s: %d record(s) without an id got the content id of their conversation or text (sha1 of its "
                    "canonical JSON, as the pool loader)", path.name, derived)
    if duplicates:
        logger.warning("%s: dropped %d exact duplicate conversation(s) or text(s) without an id (same content id)",
                       path.name,
                       duplicates)
    for name, (count, first) in (parser.nonfinite_extras.items() if parser else ()):
        logger.warning("field '%s' is not a finite number in %d record(s) (first: %s): it is not loaded as an extra "
                       "column (name it with --extra-field to make such records errors)", name, count, first)
    if not kept:  # the reader refuses a file without records, so every one was skipped
        raise skip.none_left(path.name)
    kept = _complete_columns(kept, skip, parser, path.name)
    embeddings = None
    if embeddings_path is not None:
        kept, embeddings = _embeddings_from_file(Path(embeddings_path), kept, skip, encoding)
    skip.report(path.name, len(kept))
    return _build_view(kept, embeddings, embeddings_path), [record for _, record, _ in kept]


def _embeddings_from_file(path: Path, kept: list[tuple[str, dict, dict[str, Any]]], skip: _Skips,
                          encoding: str) -> tuple[list[tuple[str, dict, dict[str, Any]]], np.ndarray]:
    """The kept records' rows of the embeddings file; rows with non-finite values or all zeros raise, or with
    ``skip`` drop their records (each named, then counted)."""
    matrix, wheres, field = _read_embeddings_file(path, [values[_ID] for _, _, values in kept], encoding)
    bad = invalid_embedding_rows(matrix)
    if not bad:
        return kept, matrix
    for row, problem in bad.items():
        skip(RecordError(wheres[row], problem, field))
    keep = np.ones(len(kept), dtype=bool)
    keep[list(bad)] = False
    if not keep.any():
        raise ValueError(f"{path.name}: no usable embedding row")
    return [entry for entry, good in zip(kept, keep.tolist()) if good], matrix[keep]


def _complete_columns(kept: list[tuple[str, dict, dict[str, Any]]], skip: _Skips, parser: _RecordParser | None,
                      source: str) -> list[tuple[str, dict, dict[str, Any]]]:
    """Drop (or raise for) records lacking a column that other records have; auto extras need every record."""
    assert parser is not None
    required = set(parser.extra_fields)
    present = {name for _, _, values in kept for name, value in values.items() if value is not _MISSING}
    auto_extras = {name for name in present if not name.startswith("\0") and name not in required}
    # An automatically found numeric field is a column only when every record has it; MIG's derived ones too.
    optional = {name for name in auto_extras if any(name not in values for _, _, values in kept)}
    mig_derived = {"deita_score", "ifd", "car_score"} if parser.mig else set()
    columns = present - (optional - mig_derived)
    field_names = {_LABELS: parser.labels_field, _SCORE: parser.score_field, _EMBEDDING: parser.embedding_field,
                   _TEXT: parser.text_field or "text"}
    complete = []
    dimension = None
    ordered_columns = sorted(columns - {_ID})
    wanted = columns | {_ID}
    for where, record, values in kept:
        try:
            for name in ordered_columns:
                if values.get(name, _MISSING) is _MISSING:
                    shown = field_names.get(name, name)
                    if name == _SCORE and parser.mig and not parser.override_score:
                        shown = "annotation.deita"
                    raise RecordError(where, "is missing (other records have it)", shown)
            if _EMBEDDING in columns:
                size = len(values[_EMBEDDING])
                if dimension is None:
                    dimension = size
                elif size != dimension:
                    raise RecordError(where, f"has {size} dimensions, the first record has {dimension}",
                                      parser.embedding_field)
        except RecordError as error:
            skip(error)
            continue
        if values.keys() != wanted:  # drop values of fields that did not become columns
            values = {name: value for name, value in values.items() if name in wanted}
        complete.append((where, record, values))
    if not complete:
        raise skip.none_left(source)
    return complete


def _build_view(kept: list[tuple[str, dict, dict[str, Any]]], embeddings: np.ndarray | None,
                embeddings_path: str | Path | None) -> PoolView:
    rows = [values for _, _, values in kept]
    names = set(rows[0])
    ids = [values[_ID] for values in rows]
    if embeddings is not None:
        if _EMBEDDING in names:
            logger.info("embeddings from %s replace the records' embedding field", embeddings_path)
    elif _EMBEDDING in names:
        embeddings = np.asarray([values[_EMBEDDING] for values in rows], dtype=np.float32)
    extra = {name: np.asarray([values[name] for values in rows], dtype=np.float64)
             for name in sorted(names) if not name.startswith("\0")}
    view = PoolView(
        ids=ids,
        labels=[values[_LABELS] for values in rows] if _LABELS in names else None,
        score=np.asarray([values[_SCORE] for values in rows], dtype=np.float64) if _SCORE in names else None,
        embeddings=embeddings,
        texts=[values[_TEXT] for values in rows] if _TEXT in names else None,
        extra=extra,
    )
    logger.info("pool view: %d samples; labels %s, score %s, embeddings %s, texts %s, extra %s", len(view),
                view.labels is not None, view.score is not None,
                None if view.embeddings is None else view.embeddings.shape, view.texts is not None, sorted(extra))
    return view
