"""Typed configuration of a pool: where its sources are, how to read them, how many records to take.

The embedded default (``default_pool_spec``) is the three real pools under ``<data_dir>/pools`` (LIMA, Alpaca 2k,
Dolly 2k, from sail-sg/sdft); the data directory is the single setting ``INFOSIFT_DATA_DIR`` (default
``<repo root>/../shared/data``). On a machine without that folder the same spec names the public Hub datasets
instead, with the same source labels, so everything downstream of the pool is unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from selection_ops.foundation import paths
from selection_ops.pool.formats import FORMATS, FormatName

logger = logging.getLogger(__name__)

# (label, local file under <data_dir>/pools, Hub id, Hub format, field renames for the Hub copy, Hub sample size)
_DEFAULT_SOURCES: tuple[tuple[str, str, str, str, dict[str, str], int | None], ...] = (
    ("lima", "lima_train_sdft.json", "GAIR/lima", "turns", {}, None),
    ("alpaca", "alpaca_2k_sdft.json", "tatsu-lab/alpaca", "alpaca", {}, 2000),
    ("dolly", "dolly_2k_sdft.json", "databricks/databricks-dolly-15k", "alpaca",
     {"context": "input", "response": "output"}, 2000),
)


@dataclass(frozen=True)
class PoolSource:
    """One source of a pool: a local file or a Hugging Face dataset, read in one format.

    Exactly one of ``path`` and ``hf_id`` is set.
    """

    path: str | None = field(default=None, metadata={"help": "JSON (array), JSONL or Parquet file"})
    hf_id: str | None = field(default=None, metadata={
        "help": "Hugging Face dataset: Hub id, packaged builder ('json' with hf_data_files), local data folder, "
                "or a save_to_disk folder"})
    hf_split: str = field(default="train", metadata={"help": "split of the Hugging Face dataset"})
    hf_config: str | None = field(default=None, metadata={"help": "config (subset) name of the Hugging Face dataset"})
    hf_data_files: str | tuple[str, ...] | None = field(default=None, metadata={
        "help": "data_files for a packaged builder such as 'json' or 'parquet'"})
    hf_trust_remote_code: bool = field(default=False, metadata={
        "help": "allow a dataset loading script to run (local .py script or a Hub dataset that needs one)"})
    format: FormatName = field(default="auto", metadata={
        "help": f"record format: auto (detected from the first record) or one of {', '.join(FORMATS)}"})
    name: str | None = field(default=None, metadata={
        "help": "source label stored in the pool's 'source' column (default: file stem or dataset id)"})
    id_fields: tuple[str, ...] = field(default=("id", "_id"), metadata={
        "help": "record fields holding the record's own id, tried in order; () = always the content hash"})
    id_prefix: str = field(default="", metadata={
        "help": "prefix for ids taken from id_fields (to keep sources with clashing native ids apart)"})
    rename: Mapping[str, str] = field(default_factory=dict, metadata={
        "help": "field renames applied before parsing, e.g. {'context': 'input', 'response': 'output'}"})
    limit: int | None = field(default=None, metadata={"help": "take at most this many records (small runs)"})
    seed: int | None = field(default=None, metadata={
        "help": "with limit: a seeded uniform sample of `limit` records (kept in file order); None = the first"})
    encoding: str = field(default="utf-8", metadata={
        "help": "text encoding of a JSON / JSONL file (Parquet is always UTF-8); a byte that is not valid in it is an "
                "error naming the file and line (or, with on_error='skip', a skipped and counted line)"})
    on_error: Literal["raise", "skip"] = field(default="raise", metadata={
        "help": "malformed records: stop with an error naming file, position and field (raise), or leave them out "
                "with a warning naming them (skip)"})

    def __post_init__(self) -> None:
        if (self.path is None) == (self.hf_id is None):
            raise ValueError(f"PoolSource needs exactly one of path and hf_id, got path={self.path!r}, "
                             f"hf_id={self.hf_id!r}")
        if self.format != "auto" and self.format not in FORMATS:
            raise ValueError(f"PoolSource {self.label}: unknown format {self.format!r}; known: auto, "
                             f"{', '.join(FORMATS)}")
        if self.on_error not in ("raise", "skip"):
            raise ValueError(f"PoolSource {self.label}: on_error must be 'raise' or 'skip', got {self.on_error!r}")
        if self.limit is not None and self.limit < 1:
            raise ValueError(f"PoolSource {self.label}: limit must be a positive integer, got {self.limit}")

    @property
    def label(self) -> str:
        """The value of the ``source`` column for this source's records."""
        if self.name:
            return self.name
        return Path(self.path).stem if self.path is not None else str(self.hf_id)


@dataclass(frozen=True)
class PoolSpec:
    """A pool = the concatenation of its sources, in order, de-duplicated by id (see ``load_pool``)."""

    sources: tuple[PoolSource, ...] = field(metadata={"help": "the pool's sources, read in this order"})

    def __post_init__(self) -> None:
        if not self.sources:
            raise ValueError("PoolSpec needs at least one source")


def resolve_data_dir(data_dir: str | Path | None = None) -> Path:
    """``data_dir`` if given, else ``foundation.paths.data_dir()``: ``$INFOSIFT_DATA_DIR`` or ``../shared/data``."""
    return paths.data_dir() if data_dir is None else Path(data_dir).expanduser().resolve()


def default_pool_spec(data_dir: str | Path | None = None, limit_per_source: int | None = None,
                      seed: int = 0) -> PoolSpec:
    """The embedded default pool: LIMA (1029), Alpaca 2k and Dolly 2k from ``<data_dir>/pools``.

    When ``<data_dir>/pools`` lacks any of the three files, the Hub datasets are named instead: ``GAIR/lima``
    (gated: accept its terms and log in), ``tatsu-lab/alpaca`` and ``databricks/databricks-dolly-15k`` (fields
    ``context``/``response`` renamed to ``input``/``output``), the latter two sampled to 2,000 records with
    ``seed`` to match the local sizes. ``limit_per_source`` caps every source with a seeded sample (``seed``).
    """
    pools = resolve_data_dir(data_dir) / "pools"
    local = all((pools / filename).is_file() for _, filename, *_ in _DEFAULT_SOURCES)
    if not local:
        logger.warning("%s lacks the default pool files; using the Hugging Face Hub datasets instead", pools)
    sources = []
    for label, filename, hub_id, hub_format, renames, hub_size in _DEFAULT_SOURCES:
        if local:
            limit = limit_per_source
            sources.append(PoolSource(path=str(pools / filename), format="alpaca", name=label, limit=limit,
                                      seed=seed if limit is not None else None))
        else:
            caps = [size for size in (limit_per_source, hub_size) if size is not None]
            limit = min(caps) if caps else None
            sources.append(PoolSource(hf_id=hub_id, format=hub_format, name=label, rename=renames, limit=limit,
                                      seed=seed if limit is not None else None))
    return PoolSpec(sources=tuple(sources))
