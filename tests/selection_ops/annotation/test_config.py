"""The nested annotation config: typed kinds, help on every field, frozen, picklable, no flat aliases."""

import pickle
from typing import get_args

import pytest

from selection_ops.annotation.config import (
    SCORE_COLUMNS,
    AnnotationConfig,
    EmbedderConfig,
    ScorerConfig,
    ScorerName,
    StageConfig,
    TaggerConfig,
)


def test_every_scorer_name_has_a_score_column():
    assert tuple(SCORE_COLUMNS) == get_args(ScorerName)
    assert ScorerConfig(kind="deita").score_column == "deita_score"
    assert AnnotationConfig(scorer=ScorerConfig(kind="superfilter")).score_column == "superfilter_ratio"


def test_every_field_has_help_text():
    for family in (EmbedderConfig, TaggerConfig, ScorerConfig, StageConfig, AnnotationConfig):
        assert all(info.description for info in family.model_fields.values()), family.__name__
    assert "tagger.endpoint" in AnnotationConfig.help() and "shard_size" in AnnotationConfig.help()


def test_nested_from_plain_mappings_frozen_and_picklable():
    config = AnnotationConfig(embedder={"kind": "causal-lm-last", "max_tokens": 64}, knn_k=5)
    assert isinstance(config.embedder, EmbedderConfig) and config.embedder.max_tokens == 64
    assert pickle.loads(pickle.dumps(config)) == config  # what a worker process receives
    with pytest.raises(ValueError, match="frozen"):
        config.knn_k = 3
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        EmbedderConfig(batch_size=0)
    with pytest.raises(ValueError, match="needs endpoint"):
        TaggerConfig(kind="llm-openai")
    with pytest.raises(ValueError, match="dtype"):
        ScorerConfig(dtype="int4")
