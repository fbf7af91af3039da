"""The annotation resources are typed config that builds the plain annotation objects."""

from resources.annotators import EmbedderResource, ScorerResource, TaggerResource, annotation_config
from selection_ops.annotation.embedders import CausalLMEmbedder, SentenceTransformerEmbedder
from selection_ops.annotation.llm_tagger import LLMTagger, OpenAIChatBackend
from selection_ops.annotation.offline_tagger import KeyphraseTagger


def test_defaults_build_the_offline_annotators():
    assert isinstance(EmbedderResource().build(), SentenceTransformerEmbedder)
    assert isinstance(TaggerResource().build(), KeyphraseTagger)
    assert [s.name for s in ScorerResource().build()] == ["handcrafted"]


def test_model_based_annotators_are_a_config_change():
    embedder = EmbedderResource(kind="causal-lm-last", model="/models/smol", max_tokens=128).build()
    assert isinstance(embedder, CausalLMEmbedder) and embedder.pooling == "last" and embedder.max_tokens == 128
    tagger = TaggerResource(kind="llm-openai", endpoint="http://127.0.0.1:9/v1", model="instagger").build()
    assert isinstance(tagger, LLMTagger) and isinstance(tagger.backend, OpenAIChatBackend)
    scorers = ScorerResource(scorer="ifd", extra_scorers=["deita"]).build()
    assert [s.name for s in scorers] == ["handcrafted", "deita_complexity", "deita_quality", "ifd"]
    config = annotation_config(embedder=EmbedderResource(kind="causal-lm-mean"), scorer=ScorerResource(scorer="ifd"),
                               shard_size=32)
    assert (config.embedder, config.scorer, config.score_column, config.shard_size) == ("causal-lm-mean", "ifd",
                                                                                         "ifd", 32)
