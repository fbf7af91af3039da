"""The annotation stage: embeddings, tags and quality scores for every pool sample, resumable shard by shard.

The run config is ``selection_ops.annotation.AnnotationConfig`` field for field (same names, defaults and help),
so switching to a model-based tagger or scorer is a config change in the Dagster launchpad, e.g.
``{"tagger": "llm-openai", "tagger_endpoint": "http://127.0.0.1:8000/v1", "scorer": "ifd"}``.
"""


import dataclasses
import typing

import pandas as pd
from dagster import AssetExecutionContext, Config, Output, asset
from pydantic import Field, create_model

from dagster_project.constants import GROUP_ANNOTATION, PARQUET_IO_MANAGER
from dagster_project.paths import state_dir
from selection_ops.annotation.config import AnnotationConfig


def _config_class() -> type[Config]:
    """A Dagster Config mirroring AnnotationConfig (tuples become lists, as run config is JSON)."""
    hints = typing.get_type_hints(AnnotationConfig)
    fields = {}
    for f in dataclasses.fields(AnnotationConfig):
        annotation = hints[f.name]
        default = f.default
        if typing.get_origin(annotation) is tuple:
            annotation, default = list[str], list(default)
        fields[f.name] = (annotation, Field(default, description=f.metadata.get("help")))
    return create_model("AnnotationRunConfig", __base__=Config, **fields)


AnnotationRunConfig = _config_class()


def build_annotation_assets() -> list:
    @asset(group_name=GROUP_ANNOTATION, io_manager_key=PARQUET_IO_MANAGER)
    def annotations(context: AssetExecutionContext, config: AnnotationRunConfig, pool: pd.DataFrame) -> Output:
        """One row per pool sample: ``id``, ``labels``, ``score``, ``quality_*`` indicators, model scores,
        ``embedding``. Finished shards under ``<state>/annotation_shards`` are reused, never recomputed."""
        from selection_ops.annotation.pipeline import annotate

        values = config.model_dump()
        settings = AnnotationConfig(**{f.name: tuple(values[f.name]) if isinstance(values[f.name], list)
                                       else values[f.name] for f in dataclasses.fields(AnnotationConfig)})
        frame = annotate(pool, settings, state_dir() / "annotation_shards")
        n_labels = frame["labels"].map(len)
        distinct = len({label for labels in frame["labels"] for label in labels})
        return Output(frame, metadata={
            "samples": len(frame), "distinct_labels": distinct, "mean_labels_per_sample": float(n_labels.mean()),
            "unlabelled_samples": int((n_labels == 0).sum()), "score_column": settings.score_column,
            "score_mean": float(frame["score"].mean()), "embedding_dim": len(frame["embedding"].iloc[0]),
        })

    return [annotations]
