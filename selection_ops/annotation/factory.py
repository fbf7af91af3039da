"""Build the configured annotators from an ``AnnotationConfig`` (one place maps names to classes)."""

from __future__ import annotations

from selection_ops.annotation.base import Annotator
from selection_ops.annotation.config import AnnotationConfig
from selection_ops.annotation.embedders import CausalLMEmbedder, Embedder, SentenceTransformerEmbedder


def build_sentence_encoder(config: AnnotationConfig) -> SentenceTransformerEmbedder:
    """The offline MiniLM (or the configured sentence-transformers model) used by the keyphrase tagger and the
    tag merge; the sample embedder when ``config.embedder`` is 'sentence-transformers'."""
    model = config.embedder_model if config.embedder == "sentence-transformers" else ""
    return SentenceTransformerEmbedder(model, batch_size=config.embed_batch_size, device=config.device)


def build_embedder(config: AnnotationConfig) -> Embedder:
    if config.embedder == "sentence-transformers":
        return build_sentence_encoder(config)
    pooling = "mean" if config.embedder == "causal-lm-mean" else "last"
    return CausalLMEmbedder(config.embedder_model, pooling=pooling, max_tokens=config.embed_max_tokens,
                            batch_size=config.embed_batch_size, device=config.device, dtype=config.dtype)


def build_tagger(config: AnnotationConfig) -> Annotator:
    if config.tagger == "keyphrase":
        from selection_ops.annotation.offline_tagger import KeyphraseTagger

        return KeyphraseTagger(build_sentence_encoder(config), max_tags=config.max_tags)
    from selection_ops.annotation.llm_tagger import build_llm_tagger

    return build_llm_tagger(config)


def build_scorers(config: AnnotationConfig) -> list[Annotator]:
    """One annotator per scorer family named in ``scorer`` / ``extra_scorers`` (hand-crafted always first)."""
    from selection_ops.annotation.indicators import HandcraftedIndicators

    names = {config.scorer, *config.extra_scorers}
    scorers: list[Annotator] = [HandcraftedIndicators()]
    if names & {"deita", "deita_quality", "deita_complexity"}:
        from selection_ops.annotation.deita import DeitaScorer

        if names & {"deita", "deita_complexity"}:
            scorers.append(DeitaScorer("complexity", config.deita_complexity_model or config.scorer_model,
                                       max_tokens=config.score_max_tokens, batch_size=config.score_batch_size,
                                       device=config.device, dtype=config.dtype))
        if names & {"deita", "deita_quality"}:
            scorers.append(DeitaScorer("quality", config.deita_quality_model or config.scorer_model,
                                       max_tokens=config.score_max_tokens, batch_size=config.score_batch_size,
                                       device=config.device, dtype=config.dtype))
    if names & {"ifd", "superfilter"}:
        from selection_ops.annotation.ifd import IFDScorer

        scorers.append(IFDScorer(config.scorer_model, max_tokens=config.score_max_tokens,
                                 batch_size=config.score_batch_size, device=config.device, dtype=config.dtype))
    if "reward" in names:
        from selection_ops.annotation.reward import RewardScorer

        scorers.append(RewardScorer(config.reward_model, max_tokens=config.score_max_tokens,
                                    batch_size=config.score_batch_size, device=config.device, dtype=config.dtype))
    return scorers
