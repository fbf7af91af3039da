"""Errors for malformed input records, worded so a user can find the record: file, position, field.

Positions: JSONL ``line N`` is 1-based (what an editor shows); a JSON array's ``record N`` and a Parquet or
Hugging Face dataset's ``row N`` are 0-based indices (what ``data[N]`` / ``dataset[N]`` returns).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_JSON_TYPE_NAMES = {type(None): "null", bool: "boolean", int: "number", float: "number", str: "string",
                    list: "array", tuple: "array", dict: "object"}


class RecordError(ValueError):
    """A record that cannot be read: ``"<where>: field '<field>' <problem>"`` or ``"<where>: <problem>"``.

    ``where`` names the file and position, e.g. ``"alpaca_2k_sdft.json: record 17"``.
    """

    def __init__(self, where: str, problem: str, field: str | None = None) -> None:
        self.where = where
        self.problem = problem
        self.field = field
        message = f"{where}: field '{field}' {problem}" if field is not None else f"{where}: {problem}"
        super().__init__(message)


def every_record_skipped(name: str, counts: str, first: RecordError, unit: str = "record") -> RecordError:
    """The error for a source whose every record was left out under ``on_error="skip"`` (an empty pool is never
    what a user meant): ``"pool.jsonl: every record was skipped (3 record(s): ...); the first: line 1: field 'id'
    is missing"``, the first skip's own message with the repeated file name left off."""
    return RecordError(name, f"every {unit} was skipped ({counts}); the first: {str(first).removeprefix(name + ': ')}")


def json_type_name(value: Any) -> str:
    """The JSON name of a Python value's type ("null", "string", "array", ...), for error messages."""
    return _JSON_TYPE_NAMES.get(type(value), type(value).__name__)


def require_string(value: Any, where: str, field: str) -> str:
    """``value`` when it is a str, else a RecordError ``field 'x' must be a string, got null``."""
    if not isinstance(value, str):
        raise RecordError(where, f"must be a string, got {json_type_name(value)}", field)
    return value


def is_object(value: Any) -> bool:
    """A JSON object (a mapping); the plain-dict check first because ABC checks are slow on million-row pools."""
    return type(value) is dict or isinstance(value, Mapping)
