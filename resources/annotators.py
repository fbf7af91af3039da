"""Dagster resources for the annotation models: the ``selection_ops.annotation.config`` families, as they are.

Each resource subclasses its family's config class (``EmbedderConfig``, ``TaggerConfig``, ``ScorerConfig``), so its
fields, defaults, kinds and help text are those of the plain config, with no second set of names. ``build()``
returns the plain object (an ``Embedder`` or ``Annotator``s); the annotation asset joins the three with its run
config through ``AnnotationConfig.assemble``. Swapping the offline defaults for the papers' models (InsTagger
through vLLM, DEITA scorers, IFD, a reward model) is a change of these resources' config, e.g.
``tagger: {kind: llm-openai, endpoint: ...}`` or ``scorer: {extra_scorers: [ifd]}``.
"""

from __future__ import annotations

from dagster import ConfigurableResource

from selection_ops.annotation.base import Annotator
from selection_ops.annotation.config import EmbedderConfig, ScorerConfig, TaggerConfig
from selection_ops.annotation.embedders import Embedder
from selection_ops.annotation.factory import build_embedder, build_scorers, build_tagger


class EmbedderResource(ConfigurableResource, EmbedderConfig):
    """Sample embedder: offline MiniLM by default, or a causal LM with mean / last-token pooling."""

    def build(self) -> Embedder:
        return build_embedder(self)


class TaggerResource(ConfigurableResource, TaggerConfig):
    """Tagger: offline keyphrases by default, or the InsTag prompt via transformers, vLLM or an OpenAI endpoint."""

    def build(self) -> Annotator:
        return build_tagger(self)


class ScorerResource(ConfigurableResource, ScorerConfig):
    """Quality scorers; ``kind`` picks the one that becomes ``score`` (hand-crafted indicators always run)."""

    def build(self) -> list[Annotator]:
        return build_scorers(self)
