"""The annotation resources are the plain family configs, as they are, and build the plain annotation objects."""

import pytest
from dagster import materialize

from resources.annotators import EmbedderResource, ScorerResource, TaggerResource
from selection_ops.annotation.config import AnnotationConfig, EmbedderConfig, ScorerConfig, StageConfig, TaggerConfig
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
    scorers = ScorerResource(kind="ifd", extra_scorers=["deita"]).build()
    assert [s.name for s in scorers] == ["handcrafted", "deita_complexity", "deita_quality", "ifd"]
    config = AnnotationConfig.assemble(StageConfig(shard_size=32), embedder=EmbedderResource(kind="causal-lm-mean"),
                                       scorer=ScorerResource(kind="ifd"))
    assert (config.embedder.kind, config.scorer.kind, config.score_column, config.shard_size) == (
        "causal-lm-mean", "ifd", "ifd", 32)
    assert type(config.embedder) is EmbedderConfig and type(config.tagger) is TaggerConfig  # plain, picklable


def test_resources_share_the_config_fields_and_checks():
    for resource, family in ((EmbedderResource, EmbedderConfig), (TaggerResource, TaggerConfig),
                             (ScorerResource, ScorerConfig)):
        assert set(resource.model_fields) == set(family.model_fields)
        assert {n: f.description for n, f in resource.model_fields.items()} == family.help()
    with pytest.raises(ValueError, match="kind"):
        TaggerResource(kind="nope")
    with pytest.raises(ValueError, match="needs reward_model"):
        ScorerResource(kind="reward")


def test_dagster_reads_the_typed_fields_as_run_config(tmp_path):
    from dagster import asset

    from assets.annotation import AnnotationRunConfig

    seen = {}

    @asset
    def probe(config: AnnotationRunConfig, scorer: ScorerResource) -> None:
        seen["config"] = AnnotationConfig.assemble(config, scorer=scorer)

    result = materialize([probe], resources={"scorer": ScorerResource(extra_scorers=["ifd"])},
                         run_config={"ops": {"probe": {"config": {"shard_size": 7, "knn_k": 3}}}})
    assert result.success
    assert (seen["config"].shard_size, seen["config"].knn_k, seen["config"].scorer.names) == (7, 3,
                                                                                             {"handcrafted", "ifd"})
    with pytest.raises(Exception, match="shard_size"):
        materialize([probe], resources={"scorer": ScorerResource()},
                    run_config={"ops": {"probe": {"config": {"shard_size": 0}}}})
