"""Data versions from content: a change of what an asset produced, not of when, marks its downstream stale.

Dagster compares the data version recorded for each input at materialization time with the input's current one
(and each asset's ``code_version`` with the one it ran with); equal versions mean "up to date", whatever the
timestamps. These helpers turn content into versions.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from dagster import DataVersion


def sha(parts: Iterable[bytes | str], length: int = 16) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()[:length]


def json_digest(value: Any, length: int = 16) -> str:
    return sha([json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))], length)


def ids_digest(ids: Sequence[str]) -> str:
    """sha256 of the ids in order: the identity of a selection."""
    return sha(ids)


def frame_digest(frame: pd.DataFrame) -> str:
    """sha256 of a DataFrame's content, column by column; list / array cells are hashed by their values."""
    parts: list[bytes | str] = [",".join(map(str, frame.columns))]
    for column in frame.columns:
        values = frame[column]
        first = values.iloc[0] if len(values) else None
        if isinstance(first, np.ndarray) and first.dtype.kind in "fiub":
            parts.extend(np.ascontiguousarray(v, dtype=np.float32).tobytes() for v in values)
        elif isinstance(first, (np.ndarray, list, tuple, dict)):
            parts.append(json.dumps([_plain(v) for v in values], default=str))
        else:
            parts.append(pd.util.hash_pandas_object(values.astype(str), index=False).to_numpy().tobytes())
    return sha(parts)


def version(text: str) -> DataVersion:
    return DataVersion(text)


def _plain(value: Any) -> Any:
    """numpy containers (as Parquet gives back list cells) as plain lists, recursively, for JSON."""
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
