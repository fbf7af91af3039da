"""Annotation of instruction pools: embeddings, tags, tag normalisation, quality scores, kNN density.

Plain Python (no Dagster). Entry point: ``pipeline.annotate(pool, AnnotationConfig(...), store_dir)``; the
annotators themselves come from ``factory.build_annotators(config)``.
Each annotator is an ``base.Annotator`` whose outputs the resumable ``store.ShardStore`` keeps per sample id
and annotator fingerprint. Defaults run offline (MiniLM, keyphrase tagger, hand-crafted score); the papers'
model-based annotators (InsTag prompt, DEITA scorers, IFD, reward models, causal-LM embeddings) are config
choices.
"""

from selection_ops.annotation.config import (
    AnnotationConfig,
    EmbedderConfig,
    ScorerConfig,
    StageConfig,
    TaggerConfig,
)
from selection_ops.annotation.pipeline import annotate

__all__ = ["AnnotationConfig", "EmbedderConfig", "ScorerConfig", "StageConfig", "TaggerConfig", "annotate"]
