"""The canonical pool store: one Parquet file, columns ``id`` (string), ``conversation``
(list<struct<role: string, content: string>>), ``source`` (string). ``df.attrs`` travel in the file's
key-value metadata under ``infosift.attrs`` (JSON)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from selection_ops.foundation.atomic import atomic_path
from selection_ops.pool.load import POOL_COLUMNS
from selection_ops.pool.readers import gc_paused

POOL_SCHEMA = pa.schema([
    ("id", pa.string()),
    ("conversation", pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))),
    ("source", pa.string()),
])
_ATTRS_KEY = b"infosift.attrs"


def write_pool_parquet(df: pd.DataFrame, path: str | Path) -> Path:
    """Write the pool table (columns id, conversation, source) to ``path`` (parents created) atomically; returns
    the path."""
    missing = [column for column in POOL_COLUMNS if column not in df.columns]
    if missing:
        raise ValueError(f"pool table lacks column(s) {missing}; expected {list(POOL_COLUMNS)}")
    table = pa.Table.from_pydict({column: list(df[column]) for column in POOL_COLUMNS}, schema=POOL_SCHEMA)
    table = table.replace_schema_metadata({_ATTRS_KEY: json.dumps(df.attrs, default=str).encode("utf-8")})
    path = Path(path)
    with atomic_path(path) as temporary:
        pq.write_table(table, temporary)
    return path


def read_pool_parquet(path: str | Path) -> pd.DataFrame:
    """The pool table written by ``write_pool_parquet`` (conversation as list of dicts, attrs restored)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"pool store not found: {path}")
    with gc_paused():
        return _read_pool_table(path)


def _read_pool_table(path: Path) -> pd.DataFrame:
    table = pq.read_table(path)
    missing = [column for column in POOL_COLUMNS if column not in table.column_names]
    if missing:
        raise ValueError(f"{path.name}: not a pool store, lacks column(s) {missing}; expected {list(POOL_COLUMNS)}")
    frame = pd.DataFrame({column: table.column(column).to_pylist() for column in POOL_COLUMNS})
    metadata = table.schema.metadata or {}
    if _ATTRS_KEY in metadata:
        frame.attrs.update(json.loads(metadata[_ATTRS_KEY]))
    return frame
