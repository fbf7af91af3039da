"""The annotation stage: embeddings, tags and quality scores for every pool sample, resumable shard by shard.

The models are the ``embedder``, ``tagger`` and ``scorer`` resources (``resources/annotators.py``): switching to
a model-based tagger or scorer is a change of their config, e.g. ``tagger: {kind: llm-openai, endpoint: ...}``.
The run config is ``StageConfig`` itself (shards, tag normalisation, kNN density): same names, defaults and help.
"""

import pandas as pd
from dagster import AssetExecutionContext, Config, Output, asset

from dagster_project.constants import GROUP_ANNOTATION, PARQUET_IO_MANAGER
from dagster_project.paths import state_dir
from resources.annotators import EmbedderResource, ScorerResource, TaggerResource
from selection_ops.annotation.config import AnnotationConfig, StageConfig


class AnnotationRunConfig(Config, StageConfig):
    """The annotation stage's run config: ``StageConfig``'s fields as they are."""


def build_annotation_assets() -> list:
    @asset(group_name=GROUP_ANNOTATION, io_manager_key=PARQUET_IO_MANAGER)
    def annotations(context: AssetExecutionContext, config: AnnotationRunConfig, embedder: EmbedderResource,
                    tagger: TaggerResource, scorer: ScorerResource, pool: pd.DataFrame) -> Output:
        """One row per pool sample: ``id``, ``labels``, ``score``, ``quality_*`` indicators, model scores,
        ``embedding``. Finished shards under ``<state>/annotation_shards`` are reused, never recomputed."""
        from selection_ops.annotation.pipeline import annotate

        settings = AnnotationConfig.assemble(config, embedder=embedder, tagger=tagger, scorer=scorer)
        frame = annotate(pool, settings, state_dir() / "annotation_shards")
        n_labels = frame["labels"].map(len)
        distinct = len({label for labels in frame["labels"] for label in labels})
        return Output(frame, metadata={
            "samples": len(frame), "distinct_labels": distinct, "mean_labels_per_sample": float(n_labels.mean()),
            "unlabelled_samples": int((n_labels == 0).sum()), "score_column": settings.score_column,
            "score_mean": float(frame["score"].mean()), "embedding_dim": len(frame["embedding"].iloc[0]),
        })

    return [annotations]
