"""Dagster resources for the annotation models: typed config in, plain ``selection_ops.annotation`` objects out.

Each resource only holds settings; ``build()`` returns the plain object (an ``Embedder`` or ``Annotator``),
and ``config_fields()`` returns the matching ``AnnotationConfig`` fields, so a job can either call the
objects directly or run ``selection_ops.annotation.annotate`` with
``annotation_config(embedder=..., tagger=..., scorer=...)``. Swapping the offline defaults for the papers'
models (InsTagger through vLLM, DEITA scorers, IFD, a reward model) is a change of these resources' config.
"""

from __future__ import annotations

from typing import Any

from dagster import ConfigurableResource
from pydantic import Field

from selection_ops.annotation.base import Annotator
from selection_ops.annotation.config import AnnotationConfig
from selection_ops.annotation.embedders import Embedder
from selection_ops.annotation.factory import build_embedder, build_scorers, build_tagger

_HELP = AnnotationConfig.help()


class EmbedderResource(ConfigurableResource):
    """Sample embedder: offline MiniLM by default, or a causal LM with mean / last-token pooling."""

    kind: str = Field(default="sentence-transformers", description=_HELP["embedder"])
    model: str = Field(default="", description=_HELP["embedder_model"])
    batch_size: int = Field(default=64, description=_HELP["embed_batch_size"])
    max_tokens: int = Field(default=256, description=_HELP["embed_max_tokens"])
    device: str = Field(default="auto", description=_HELP["device"])
    dtype: str = Field(default="auto", description=_HELP["dtype"])

    def config_fields(self) -> dict[str, Any]:
        return {"embedder": self.kind, "embedder_model": self.model, "embed_batch_size": self.batch_size,
                "embed_max_tokens": self.max_tokens, "device": self.device, "dtype": self.dtype}

    def build(self) -> Embedder:
        return build_embedder(AnnotationConfig(**self.config_fields()))


class TaggerResource(ConfigurableResource):
    """Tagger: offline keyphrases by default, or the InsTag prompt via transformers, vLLM or an OpenAI endpoint."""

    kind: str = Field(default="keyphrase", description=_HELP["tagger"])
    model: str = Field(default="", description=_HELP["tagger_model"])
    endpoint: str = Field(default="", description=_HELP["tagger_endpoint"])
    api_key_env: str = Field(default="OPENAI_API_KEY", description=_HELP["tagger_api_key_env"])
    batch_size: int = Field(default=8, description=_HELP["tagger_batch_size"])
    max_new_tokens: int = Field(default=256, description=_HELP["tagger_max_new_tokens"])
    max_retries: int = Field(default=2, description=_HELP["tagger_max_retries"])
    max_tags: int = Field(default=5, description=_HELP["max_tags"])

    def config_fields(self) -> dict[str, Any]:
        return {"tagger": self.kind, "tagger_model": self.model, "tagger_endpoint": self.endpoint,
                "tagger_api_key_env": self.api_key_env, "tagger_batch_size": self.batch_size,
                "tagger_max_new_tokens": self.max_new_tokens, "tagger_max_retries": self.max_retries,
                "max_tags": self.max_tags}

    def build(self) -> Annotator:
        return build_tagger(AnnotationConfig(**self.config_fields()))


class ScorerResource(ConfigurableResource):
    """Quality scorers; ``scorer`` picks the one that becomes ``score`` (hand-crafted indicators always run)."""

    scorer: str = Field(default="handcrafted", description=_HELP["scorer"])
    extra_scorers: list[str] = Field(default_factory=list, description=_HELP["extra_scorers"])
    scorer_model: str = Field(default="", description=_HELP["scorer_model"])
    deita_quality_model: str = Field(default="", description=_HELP["deita_quality_model"])
    deita_complexity_model: str = Field(default="", description=_HELP["deita_complexity_model"])
    reward_model: str = Field(default="", description=_HELP["reward_model"])
    batch_size: int = Field(default=4, description=_HELP["score_batch_size"])
    max_tokens: int = Field(default=1024, description=_HELP["score_max_tokens"])
    device: str = Field(default="auto", description=_HELP["device"])
    dtype: str = Field(default="auto", description=_HELP["dtype"])

    def config_fields(self) -> dict[str, Any]:
        return {"scorer": self.scorer, "extra_scorers": tuple(self.extra_scorers), "scorer_model": self.scorer_model,
                "deita_quality_model": self.deita_quality_model,
                "deita_complexity_model": self.deita_complexity_model, "reward_model": self.reward_model,
                "score_batch_size": self.batch_size, "score_max_tokens": self.max_tokens, "device": self.device,
                "dtype": self.dtype}

    def build(self) -> list[Annotator]:
        return build_scorers(AnnotationConfig(**self.config_fields()))


def annotation_config(*, embedder: EmbedderResource | None = None, tagger: TaggerResource | None = None,
                      scorer: ScorerResource | None = None, **other: Any) -> AnnotationConfig:
    """One ``AnnotationConfig`` from the three resources plus any other fields (shard_size, knn_k, ...).

    The scorer's device/dtype win over the embedder's when both are given (one device per run).
    """
    fields: dict[str, Any] = {}
    for resource in (embedder, tagger, scorer):
        if resource is not None:
            fields.update(resource.config_fields())
    fields.update(other)
    return AnnotationConfig(**fields)
