"""Resumable on-disk store of annotations: Parquet shards keyed by sample id and annotator fingerprint.

Layout::

    <store_dir>/<annotator name>/<fingerprint hash>/annotator.json     the fingerprint, for people
    <store_dir>/<annotator name>/<fingerprint hash>/shard-<ids hash>.parquet

Each shard holds ``id``, ``content_hash`` and the annotator's output columns for up to ``shard_size``
samples. A shard is written to a temporary file and renamed, so a killed run leaves only whole shards.
On resume every shard of the current fingerprint is read; a sample counts as done when its id is there
with the same content hash; everything else is recomputed, in new shards. A different fingerprint is a
different folder, so changing one annotator's model or prompt leaves every other annotator's cache valid.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from selection_ops.annotation.base import Annotator
from selection_ops.annotation.text import Sample
from selection_ops.foundation.atomic import atomic_path, write_text_atomic

logger = logging.getLogger(__name__)


def fingerprint_hash(fingerprint: Mapping[str, Any]) -> str:
    """16 hex digits of sha1 over the fingerprint's canonical JSON (sorted keys)."""
    canonical = json.dumps(fingerprint, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha1(canonical.encode("utf-8")).hexdigest()[:16]


class ShardStore:
    """The shards of one annotator fingerprint under ``root``."""

    def __init__(self, root: Path, annotator_name: str, fingerprint: Mapping[str, Any]) -> None:
        self.directory = Path(root) / annotator_name / fingerprint_hash(fingerprint)
        self.fingerprint = dict(fingerprint)

    def shard_paths(self) -> list[Path]:
        return sorted(self.directory.glob("shard-*.parquet")) if self.directory.exists() else []

    def load(self) -> pd.DataFrame:
        """All stored rows (columns ``id``, ``content_hash``, outputs); the last written wins for a repeated id."""
        paths = self.shard_paths()
        if not paths:
            return pd.DataFrame(columns=["id", "content_hash"])
        frames = [pd.read_parquet(path) for path in paths]
        stored = pd.concat(frames, ignore_index=True)
        return stored.drop_duplicates(subset="id", keep="last")

    def write(self, rows: pd.DataFrame) -> Path:
        """Write one shard atomically (temp file + rename); its name hashes the ids it holds."""
        self.directory.mkdir(parents=True, exist_ok=True)
        meta = self.directory / "annotator.json"
        if not meta.exists():
            write_text_atomic(meta, json.dumps(self.fingerprint, indent=2, sort_keys=True, default=str))
        ids_digest = hashlib.sha1("\n".join(rows["id"]).encode("utf-8")).hexdigest()[:16]
        path = self.directory / f"shard-{ids_digest}.parquet"
        with atomic_path(path) as temporary:
            rows.to_parquet(temporary, index=False)
        return path


def pending_shards(samples: Sequence[Sample], stored: pd.DataFrame, shard_size: int) -> list[list[Sample]]:
    """The samples still to compute (absent from ``stored`` or with changed content), cut into shards in pool order.

    In-process and Ray runs cut the same shards, so their shard files carry the same names and either can resume
    the other's store.
    """
    if shard_size < 1:
        raise ValueError(f"shard_size must be >= 1, got {shard_size}")
    done = dict(zip(stored["id"], stored["content_hash"]))
    missing = [s for s in samples if done.get(s.id) != s.content_hash]
    return [missing[start:start + shard_size] for start in range(0, len(missing), shard_size)]


def plan_shards(annotator: Annotator, samples: Sequence[Sample], store_root: Path, shard_size: int,
                where: str = "") -> tuple[ShardStore, pd.DataFrame, list[list[Sample]]]:
    """The annotator's store, its stored rows and the shards still to compute (logged with the cached count);
    ``where`` names the executor in the log line (e.g. " on Ray")."""
    store = ShardStore(store_root, annotator.name, annotator.fingerprint())
    stored = store.load()
    shards = pending_shards(samples, stored, shard_size)
    n_missing = sum(len(batch) for batch in shards)
    logger.info("annotator %s (%s)%s: %d of %d samples cached, %d to compute in %d shard(s)", annotator.name,
                store.directory.name, where, len(samples) - n_missing, len(samples), n_missing, len(shards))
    return store, stored, shards


def shard_frame(annotator_name: str, batch: Sequence[Sample], outputs: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One shard's rows: ``id``, ``content_hash``, then the annotator's output columns; checks the row count."""
    if len(outputs) != len(batch):
        raise RuntimeError(f"annotator {annotator_name} returned {len(outputs)} rows for {len(batch)} samples")
    frame = pd.DataFrame(list(outputs))
    frame.insert(0, "content_hash", [s.content_hash for s in batch])
    frame.insert(0, "id", [s.id for s in batch])
    return frame


def assemble(stored: pd.DataFrame, new_frames: Sequence[pd.DataFrame], samples: Sequence[Sample]) -> pd.DataFrame:
    """Stored plus new rows, one per sample in ``samples`` order, index ``id``, without ``content_hash``."""
    combined = pd.concat([stored, *new_frames], ignore_index=True) if new_frames else stored
    combined = combined.drop_duplicates(subset="id", keep="last").set_index("id")
    return combined.reindex([s.id for s in samples]).drop(columns=["content_hash"])


def run_annotator(annotator: Annotator, samples: Sequence[Sample], store_root: Path, shard_size: int,
                  show_progress: bool = True) -> pd.DataFrame:
    """Annotate ``samples`` with ``annotator``, reusing stored shards; returns one row per sample, in order.

    The result has the annotator's output columns and index ``id``. Only samples missing from the store
    (or whose content changed) are passed to ``annotator.annotate``, ``shard_size`` at a time, and each
    finished batch is written as a shard before the next starts.
    """
    store, stored, shards = plan_shards(annotator, samples, store_root, shard_size)
    n_missing = sum(len(batch) for batch in shards)
    new_frames: list[pd.DataFrame] = []
    if shards:
        started = time.perf_counter()
        with tqdm(total=n_missing, desc=f"annotate:{annotator.name}", unit="sample",
                  disable=not show_progress) as progress:
            for batch in shards:
                frame = shard_frame(annotator.name, batch, annotator.annotate(batch))
                store.write(frame)
                new_frames.append(frame)
                progress.update(len(batch))
        elapsed = time.perf_counter() - started
        logger.info("annotator %s: %d samples in %.1f s (%.2f samples/s)", annotator.name, n_missing, elapsed,
                    n_missing / max(elapsed, 1e-9))
    return assemble(stored, new_frames, samples)
