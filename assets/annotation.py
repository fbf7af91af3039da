"""The annotation stage: embeddings, tags and quality scores for every pool sample, resumable shard by shard.

The models are the ``embedder``, ``tagger`` and ``scorer`` resources (``resources/annotators.py``): switching to
a model-based tagger or scorer is a change of their config, e.g. ``tagger: {kind: llm-openai, endpoint: ...}``.
The run config is ``StageConfig`` itself (shards, tag normalisation, kNN density): same names, defaults and help.
Shards live under a folder keyed by the pool's content and every setting, so a
changed setting never reuses another setting's shards, and a killed run resumes from its own.
"""

import pandas as pd
from dagster import AssetExecutionContext, Config, Output, asset

from assets.checks import ANNOTATION_CHECKS, annotation_checks, specs
from assets.constants import GROUP_ANNOTATION, PARQUET_IO_MANAGER
from assets.versioning import frame_digest, version
from resources.annotators import EmbedderResource, ScorerResource, TaggerResource
from resources.ray_cluster import RayCluster
from resources.study_layout import StudyLayout
from selection_ops.annotation.config import AnnotationConfig, StageConfig
from selection_ops.study.grid import digest

ANNOTATION_CODE_VERSION = "2"
# The default offline embedder (MiniLM-L6) has 384 dimensions; other embedders are only checked for consistency.
KNOWN_EMBEDDING_DIMS = {("sentence-transformers", ""): 384}


class AnnotationRunConfig(Config, StageConfig):
    """The annotation stage's run config: ``StageConfig``'s fields as they are."""


def build_annotation_assets(annotator_settings: dict | None = None) -> list:
    """``annotator_settings``: the annotator resources' config, folded into the code version (a changed model
    marks annotations stale)."""
    settings = digest(annotator_settings or {}, 8)

    @asset(group_name=GROUP_ANNOTATION, io_manager_key=PARQUET_IO_MANAGER,
           code_version=f"{ANNOTATION_CODE_VERSION}-{settings}", check_specs=specs("annotations", ANNOTATION_CHECKS))
    def annotations(context: AssetExecutionContext, config: AnnotationRunConfig, embedder: EmbedderResource,
                    tagger: TaggerResource, scorer: ScorerResource, ray_cluster: RayCluster, layout: StudyLayout,
                    pool: pd.DataFrame):
        """One row per pool sample: ``id``, ``labels``, ``score``, ``quality_*`` indicators, model scores,
        ``embedding``. Finished shards of the same pool and settings are reused, never recomputed; with
        ``ray_cluster.ray_address`` set, each annotator runs as a pool of Ray actors over the same shards."""
        settings = AnnotationConfig.assemble(config, embedder=embedder, tagger=tagger, scorer=scorer)
        shards = layout.annotation_shards(digest({"pool": frame_digest(pool[["id"]]),
                                                  "settings": settings.model_dump(mode="json")}, 16))
        frame = ray_cluster.annotate(pool, settings, shards)
        n_labels = frame["labels"].map(len)
        distinct = len({label for labels in frame["labels"] for label in labels})
        yield Output(frame, data_version=version(frame_digest(frame)), metadata={
            "samples": len(frame), "distinct_labels": distinct, "mean_labels_per_sample": float(n_labels.mean()),
            "unlabelled_samples": int((n_labels == 0).sum()), "score_column": settings.score_column,
            "score_mean": float(frame["score"].mean()), "embedding_dim": len(frame["embedding"].iloc[0]),
            "shards": str(shards), "ray_address": ray_cluster.ray_address or "in-process"})
        yield from annotation_checks(frame, KNOWN_EMBEDDING_DIMS.get((embedder.kind, embedder.model)))

    return [annotations]
