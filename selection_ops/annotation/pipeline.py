"""The annotation stage as one call: pool DataFrame in, one annotated row per sample out, resumable.

``annotate(pool, config, store_dir)`` runs, in order, the embedder, the tagger and the scorers of ``config``
(``factory.build_annotators``) through the shard store (``store.run_annotator``: only missing shards are computed),
then ``combine_annotations``: the whole-pool steps that are cheap and not cached: tag normalisation (its old -> new
mapping is written to ``store_dir/tag_mapping.json``; an LLM tagger's unparseable replies to
``store_dir/tagger_unparseable.jsonl``), the DEITA combination over turns, the ``score`` choice and kNN density.
A driver that runs the annotators elsewhere (one worker per model) calls ``combine_annotations`` itself.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from selection_ops.annotation.config import AnnotationConfig
from selection_ops.annotation.factory import build_annotators, build_sentence_encoder
from selection_ops.annotation.store import run_annotator
from selection_ops.annotation.tag_normalization import load_vocabulary, normalize_tags
from selection_ops.annotation.text import RecordError, Sample, sample_from_record
from selection_ops.foundation.atomic import write_text_atomic

logger = logging.getLogger(__name__)

POOL_COLUMNS = ("id", "conversation", "source")
TAG_MAPPING_FILE = "tag_mapping.json"
UNPARSEABLE_FILE = "tagger_unparseable.jsonl"


def samples_from_pool(pool: pd.DataFrame) -> list[Sample]:
    """``Sample`` per row; RecordError names the row's id and the missing or malformed field."""
    missing = [c for c in ("id", "conversation") if c not in pool.columns]
    if missing:
        raise RecordError("pool DataFrame", f"lacks column(s) {missing}; expected {POOL_COLUMNS}")
    ids = pool["id"].astype(str).tolist()
    if len(set(ids)) != len(ids):
        duplicate = pool["id"][pool["id"].astype(str).duplicated()].iloc[0]
        raise RecordError("pool DataFrame", f"ids must be unique; id {duplicate!r} appears more than once")
    sources = pool["source"].astype(str).tolist() if "source" in pool.columns else [""] * len(ids)
    conversations = pool["conversation"].tolist()
    return [sample_from_record(i, list(c) if c is not None else [], s) for i, c, s in zip(ids, conversations, sources)]


def _as_lists(column: pd.Series) -> list | np.ndarray:
    """List-valued cells as Python lists whether they were just computed (lists) or read from Parquet (arrays)."""
    values = column.to_numpy()
    if values.dtype == object and any(isinstance(v, (list, np.ndarray)) for v in values):
        return [list(v) if isinstance(v, (list, np.ndarray)) else v for v in values]
    return values


def deita_combination(quality_turns: list, complexity_turns: list) -> float:
    """DEITA's score of a conversation: sum over turns of quality x complexity (Liu et al., 2024, Sec. 3)."""
    if len(quality_turns) != len(complexity_turns):
        raise ValueError(f"DEITA turn counts differ: {len(quality_turns)} quality vs {len(complexity_turns)}")
    return float(np.dot(np.asarray(quality_turns, dtype=np.float64), np.asarray(complexity_turns, dtype=np.float64)))


def annotate(pool: pd.DataFrame, config: AnnotationConfig, store_dir: Path,
             runner: Callable[..., pd.DataFrame] = run_annotator) -> pd.DataFrame:
    """Annotate every sample of ``pool`` (columns ``id``, ``conversation``, ``source``).

    ``runner`` computes one annotator's outputs through the shard store: ``store.run_annotator`` in-process, or
    ``annotation.ray_runner.ray_runner(...)`` on a Ray cluster (same store, same shards, same result).

    Returns one row per pool row, in pool order, with columns: ``id``; ``labels`` (list[str], normalised tags);
    ``score`` (float, the column named by ``config.scorer``); ``raw_tags`` (list[str], tagger output); the
    tagger's extra columns (LLM taggers: ``tag_explanations``, ``tag_parse_error``); every ``quality_*``
    indicator; each model-based scorer's columns (``deita_*``, ``ifd*``, ``superfilter_ratio``, ``reward``);
    ``knn_density`` when ``config.knn_k`` > 0; and ``embedding`` (float32 array per row).
    """
    store_dir = Path(store_dir)
    store_dir.mkdir(parents=True, exist_ok=True)
    samples = samples_from_pool(pool)
    if not samples:
        raise RecordError("pool DataFrame", "is empty: nothing to annotate")
    logger.info("annotating %d samples into %s", len(samples), store_dir)

    run = {"store_root": store_dir, "shard_size": config.shard_size, "show_progress": config.show_progress}
    outputs = [runner(annotator, samples, **run) for annotator in build_annotators(config)]
    return combine_annotations(samples, outputs, config, store_dir)


def combine_annotations(samples: list[Sample], outputs: list[pd.DataFrame], config: AnnotationConfig,
                        store_dir: Path) -> pd.DataFrame:
    """The annotated frame (see ``annotate``) from the annotators' outputs, one frame per annotator of
    ``build_annotators(config)`` in that order, each aligned with ``samples``."""
    embedded, tagged, *scored = outputs
    if "tag_parse_error" in tagged.columns:
        failed = tagged[tagged["tag_parse_error"].astype(str) != ""]
        lines = [json.dumps({"id": i, "error": e}, ensure_ascii=False) for i, e in failed["tag_parse_error"].items()]
        write_text_atomic(store_dir / UNPARSEABLE_FILE, "".join(line + "\n" for line in lines))
        if lines:
            logger.warning("%d samples have no tags: the tagger's replies did not parse (see %s)", len(lines),
                           store_dir / UNPARSEABLE_FILE)
    out = pd.DataFrame({"id": [s.id for s in samples]})
    raw_tags = [list(tags) for tags in tagged["raw_tags"]]
    if config.normalize_tags:
        vocabulary = load_vocabulary(Path(config.valid_tag_vocabulary)) if config.valid_tag_vocabulary else None
        normalized = normalize_tags(raw_tags, embedder=build_sentence_encoder(config.embedder),
                                    min_frequency=config.tag_min_frequency, merge_eps=config.tag_merge_eps,
                                    vocabulary=vocabulary, vocabulary_max_distance=config.vocabulary_max_distance)
        normalized.write_mapping(store_dir / TAG_MAPPING_FILE)
        out["labels"] = normalized.labels
    else:
        out["labels"] = raw_tags
    out["score"] = np.nan
    out["raw_tags"] = raw_tags
    for frame in (tagged.drop(columns="raw_tags"), *scored):
        for column in frame.columns:
            out[column] = _as_lists(frame[column])
    if "deita_quality_turns" in out.columns and "deita_complexity_turns" in out.columns:
        out["deita_score"] = [deita_combination(q, c) for q, c in
                              zip(out["deita_quality_turns"], out["deita_complexity_turns"])]
    out["score"] = out[config.score_column].astype(np.float64).to_numpy()
    embeddings = [np.asarray(v, dtype=np.float32) for v in embedded["embedding"]]
    if config.knn_k > 0:
        from selection_ops.data_model import normalize_rows
        from selection_ops.neighbors import knn_density

        # NovelSum's density factor on unit-norm rows (squared L2 = 2 (1 - cos)), as its metric and selector use.
        out["knn_density"] = knn_density(normalize_rows(np.stack(embeddings)), k=config.knn_k)
    out["embedding"] = embeddings
    return out
