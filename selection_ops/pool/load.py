"""Build the canonical pool table from a ``PoolSpec``: read, parse, id, de-duplicate, concatenate.

Ids: a record's own id (the first of ``PoolSource.id_fields`` that is present and not null/empty, converted to
str, prefixed with ``id_prefix``) or else ``content_id(conversation)`` (sha1 of the canonical conversation JSON,
first 16 hex digits). Either way the id does not depend on record order or file format.

Duplicates (pool-wide, across sources): a later record whose id was already seen with the *same* conversation
is dropped and counted (exact duplicates are common in real pools: Dolly 2k holds one); a later record whose id
was seen with a *different* conversation is an error naming both records, since silently keeping one would
change the pool. The counts per source are logged and kept in ``DataFrame.attrs["pool_stats"]``.

A source that gives no record (an empty file or split, or, with ``on_error="skip"``, every record skipped) is an
error naming it and the first skip's reason: an empty source is never what the spec meant.
"""

from __future__ import annotations

import heapq
import logging
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from selection_ops.pool.conversation import Conversation, content_id
from selection_ops.pool.errors import RecordError, every_record_skipped
from selection_ops.pool.formats import detect_format, parse_record
from selection_ops.pool.readers import gc_paused, iter_file_records, iter_hf_records
from selection_ops.pool.spec import PoolSource, PoolSpec

logger = logging.getLogger(__name__)

POOL_COLUMNS: tuple[str, ...] = ("id", "conversation", "source")


@dataclass
class SourceStats:
    """What happened to one source's records."""

    read: int = 0
    kept: int = 0
    dropped_duplicates: int = 0


def raw_records(source: PoolSource) -> Iterator[tuple[str, Any]]:
    """``(where, record)`` of a source, before any limit."""
    if source.path is not None:
        return iter_file_records(source.path, skip_invalid=source.on_error == "skip", encoding=source.encoding)
    data_files = list(source.hf_data_files) if isinstance(source.hf_data_files, tuple) else source.hf_data_files
    return iter_hf_records(str(source.hf_id), split=source.hf_split, config=source.hf_config, data_files=data_files,
                           trust_remote_code=source.hf_trust_remote_code)


def seeded_sample(records: Iterator[tuple[str, Any]], size: int, seed: int) -> list[tuple[str, Any]]:
    """A uniform sample of ``size`` items without replacement, in their original order, in one streaming pass.

    Each item gets a key from ``random.Random(seed)`` and the ``size`` smallest keys win (a bottom-k sketch,
    equivalent to reservoir sampling); memory is O(size). Same input and seed -> same sample.
    """
    rng = random.Random(seed)
    heap: list[tuple[float, int, tuple[str, Any]]] = []  # max-heap on key via negation
    for index, item in enumerate(records):
        key = rng.random()
        if len(heap) < size:
            heapq.heappush(heap, (-key, index, item))
        elif key < -heap[0][0]:
            heapq.heapreplace(heap, (-key, index, item))
    return [item for _, _, item in sorted(heap, key=lambda entry: entry[1])]


def _renamed(record: Any, rename: Mapping[str, str]) -> Any:
    if not rename or not isinstance(record, Mapping):
        return record
    return {rename.get(key, key): value for key, value in record.items()}


def record_id(record: Mapping[str, Any], conversation: Conversation, source: PoolSource, where: str) -> str:
    """The record's own id (first present of ``source.id_fields``) or the content hash; see the module doc."""
    for field_name in source.id_fields:
        value = record.get(field_name)
        if value is None or value == "":
            continue
        if isinstance(value, (dict, list, bool, float)):
            raise RecordError(where, f"must be a string or integer id, got {type(value).__name__}", field_name)
        return f"{source.id_prefix}{value}"
    return content_id(conversation)


def iter_source(source: PoolSource) -> Iterator[tuple[str, str, Conversation]]:
    """``(where, id, conversation)`` for the records of one source, after limit / sampling."""
    records: Iterator[tuple[str, Any]] = raw_records(source)
    if source.limit is not None:
        if source.seed is None:
            records = islice(records, source.limit)
        else:
            records = iter(seeded_sample(records, source.limit, source.seed))
    fmt = None if source.format == "auto" else source.format
    read = yielded = 0
    first_skip: RecordError | None = None
    for where, record in records:
        read += 1
        record = _renamed(record, source.rename)
        try:
            if fmt is None:
                if not isinstance(record, Mapping):
                    parse_record(record, "alpaca", where)  # raises the "must be a JSON object" error
                fmt = detect_format(record, where)
                logger.info("%s: detected format %r", source.label, fmt)
            conversation = parse_record(record, fmt, where)
            sample_id = record_id(record, conversation, source, where)
        except RecordError as error:
            if source.on_error == "raise":
                raise
            logger.warning("skipping %s", error)
            first_skip = first_skip or error
            continue
        yielded += 1
        yield where, sample_id, conversation
    if not yielded:  # a file without records is refused by its reader; a dataset's split may still be empty
        name = source_name(source)
        if first_skip is None:
            raise RecordError(name, "holds no records; a pool source needs at least one record")
        raise every_record_skipped(name, f"{read - yielded} of {read} record(s)", first_skip)


def source_name(source: PoolSource) -> str:
    """How errors name a source: its file's base name (as the readers do) or ``dataset[split]``."""
    return Path(source.path).name if source.path is not None else f"{source.hf_id}[{source.hf_split}]"


def load_pool(spec: PoolSpec) -> pd.DataFrame:
    """The pool of ``spec`` as a DataFrame with columns ``id`` (str), ``conversation`` (list of
    ``{"role", "content"}``), ``source`` (str), in source order then record order, ids unique.

    ``df.attrs["pool_stats"]`` = ``{source label: {"read", "kept", "dropped_duplicates"}}``.
    Raises RecordError for a malformed record and ValueError for an id reused with different content.
    """
    with gc_paused():
        return _load_pool(spec)


def _load_pool(spec: PoolSpec) -> pd.DataFrame:
    ids: list[str] = []
    conversations: list[Conversation] = []
    labels: list[str] = []
    first_seen: dict[str, tuple[int, str]] = {}  # id -> (row, where)
    stats: dict[str, SourceStats] = {}
    for source in spec.sources:
        counts = stats.setdefault(source.label, SourceStats())
        for where, sample_id, conversation in tqdm(iter_source(source), desc=f"pool {source.label}", unit=" rec",
                                                   leave=False, mininterval=2.0):
            counts.read += 1
            seen = first_seen.get(sample_id)
            if seen is not None:
                row, first_where = seen
                if conversations[row] != conversation:
                    raise ValueError(f"{where}: id {sample_id!r} was already used by {first_where} for a different "
                                     "conversation; ids must be unique within a pool (set id_prefix or id_fields=())")
                counts.dropped_duplicates += 1
                continue
            first_seen[sample_id] = (len(ids), where)
            ids.append(sample_id)
            conversations.append(conversation)
            labels.append(source.label)
            counts.kept += 1
        logger.info("pool source %s: read %d, kept %d, dropped %d exact duplicates", source.label, counts.read,
                    counts.kept, counts.dropped_duplicates)
    frame = pd.DataFrame({"id": ids, "conversation": conversations, "source": labels}, columns=list(POOL_COLUMNS))
    frame.attrs["pool_stats"] = {label: vars(counts).copy() for label, counts in stats.items()}
    return frame
