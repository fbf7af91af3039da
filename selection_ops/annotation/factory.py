"""Build the configured annotators (one place maps config kinds to classes).

``build_annotators(config)`` is the single entry the pipeline (and a distributed driver) uses: every annotator
the stage runs, in run order. The per-family builders take only their family's config. Building is cheap: models
load on the first batch (``models.ModelHolder``).
"""

from __future__ import annotations

from selection_ops.annotation.base import Annotator
from selection_ops.annotation.config import AnnotationConfig, EmbedderConfig, ScorerConfig, TaggerConfig
from selection_ops.annotation.embedders import (
    CausalLMEmbedder,
    Embedder,
    EmbeddingAnnotator,
    SentenceTransformerEmbedder,
)


def build_sentence_encoder(embedder: EmbedderConfig) -> SentenceTransformerEmbedder:
    """The offline MiniLM (or the configured sentence-transformers model) used by the keyphrase tagger and the
    tag merge; the sample embedder when ``embedder.kind`` is 'sentence-transformers'."""
    model = embedder.model if embedder.kind == "sentence-transformers" else ""
    return SentenceTransformerEmbedder(model, batch_size=embedder.batch_size, device=embedder.device)


def build_embedder(embedder: EmbedderConfig) -> Embedder:
    if embedder.kind == "sentence-transformers":
        return build_sentence_encoder(embedder)
    pooling = "mean" if embedder.kind == "causal-lm-mean" else "last"
    return CausalLMEmbedder(embedder.model, pooling=pooling, max_tokens=embedder.max_tokens,
                            batch_size=embedder.batch_size, device=embedder.device, dtype=embedder.dtype)


def build_tagger(tagger: TaggerConfig, embedder: EmbedderConfig | None = None) -> Annotator:
    """The tagger; the keyphrase tagger chooses keyphrases with ``embedder``'s sentence encoder (default MiniLM)."""
    if tagger.kind == "keyphrase":
        from selection_ops.annotation.offline_tagger import KeyphraseTagger

        return KeyphraseTagger(build_sentence_encoder(embedder or EmbedderConfig()), max_tags=tagger.max_tags)
    from selection_ops.annotation.llm_tagger import build_llm_tagger

    return build_llm_tagger(tagger)


def build_scorers(scorer: ScorerConfig) -> list[Annotator]:
    """One annotator per scorer family named in ``kind`` / ``extra_scorers`` (hand-crafted always first)."""
    from selection_ops.annotation.indicators import HandcraftedIndicators

    names = scorer.names
    model = {"max_tokens": scorer.max_tokens, "batch_size": scorer.batch_size, "device": scorer.device,
             "dtype": scorer.dtype}
    scorers: list[Annotator] = [HandcraftedIndicators()]
    if names & {"deita", "deita_quality", "deita_complexity"}:
        from selection_ops.annotation.deita import DeitaScorer

        if names & {"deita", "deita_complexity"}:
            scorers.append(DeitaScorer("complexity", scorer.deita_complexity_model or scorer.model, **model))
        if names & {"deita", "deita_quality"}:
            scorers.append(DeitaScorer("quality", scorer.deita_quality_model or scorer.model, **model))
    if names & {"ifd", "superfilter"}:
        from selection_ops.annotation.ifd import IFDScorer

        scorers.append(IFDScorer(scorer.model, **model))
    if "reward" in names:
        from selection_ops.annotation.reward import RewardScorer

        scorers.append(RewardScorer(scorer.reward_model, **model))
    return scorers


def build_annotators(config: AnnotationConfig) -> list[Annotator]:
    """Every annotator of the stage, in run order: ``embedding``, the tagger, then the scorers (hand-crafted first).

    Each has a unique ``name`` (its store folder); ``pipeline.combine_annotations`` expects their outputs in this
    order.
    """
    return [EmbeddingAnnotator(build_embedder(config.embedder)), build_tagger(config.tagger, config.embedder),
            *build_scorers(config.scorer)]


def build_annotator(config: AnnotationConfig, name: str) -> Annotator:
    """The annotator of ``build_annotators(config)`` called ``name`` (e.g. for a worker that owns one model)."""
    annotators = {annotator.name: annotator for annotator in build_annotators(config)}
    if name not in annotators:
        raise KeyError(f"no annotator {name!r} in this config; it builds {sorted(annotators)}")
    return annotators[name]
