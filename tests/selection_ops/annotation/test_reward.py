"""Reward scorer with a tiny randomly initialised sequence-classification checkpoint written by the test."""

import pandas as pd
import pytest
import torch

from selection_ops.annotation import AnnotationConfig, ScorerConfig, annotate
from selection_ops.annotation.models import default_sentence_encoder_path
from selection_ops.annotation.reward import RewardScorer
from selection_ops.annotation.text import sample_from_record


def _checkpoint(folder, num_labels=1):
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    tokenizer = AutoTokenizer.from_pretrained(default_sentence_encoder_path())  # MiniLM's WordPiece vocabulary
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, num_labels=num_labels)
    torch.manual_seed(0)
    BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return str(_checkpoint(tmp_path_factory.mktemp("rm")))


SAMPLES = [("What is the capital of France?", "Paris."), ("Write a haiku about rain.", ("Soft rain on the roof\n"
           "drums a slow grey lullaby\nthe gutters hum too")), ("Hi", "Hello! How can I help you today?")]


def test_reward_is_the_checkpoints_logit_and_batch_invariant(checkpoint):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    samples = [sample_from_record(f"r{i}", [{"role": "user", "content": q}, {"role": "assistant", "content": a}])
               for i, (q, a) in enumerate(SAMPLES)]
    batched = RewardScorer(checkpoint, batch_size=3, device="cpu").annotate(samples)
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    model = AutoModelForSequenceClassification.from_pretrained(checkpoint).eval()
    for (query, reply), row in zip(SAMPLES, batched):
        with torch.inference_mode():
            expected = model(**tokenizer(query, reply, return_tensors="pt")).logits[0, 0].item()
        assert row["reward"] == pytest.approx(expected, abs=1e-5)
    assert len({round(r["reward"], 6) for r in batched}) == 3  # different texts, different scores


def test_multi_logit_head_is_rejected(tmp_path):
    folder = _checkpoint(tmp_path / "two", num_labels=2)
    sample = sample_from_record("x", [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}])
    with pytest.raises(ValueError, match="num_labels=2"):
        RewardScorer(str(folder), device="cpu").annotate([sample])


def test_pipeline_score_from_reward_model(checkpoint, tmp_path):
    pool = pd.DataFrame({"id": [f"r{i}" for i in range(3)], "source": ["toy"] * 3, "conversation": [
        [{"role": "user", "content": q}, {"role": "assistant", "content": a}] for q, a in SAMPLES]})
    config = AnnotationConfig(scorer=ScorerConfig(kind="reward", reward_model=checkpoint), show_progress=False)
    out = annotate(pool, config, tmp_path)
    assert out["score"].tolist() == out["reward"].tolist()
    assert out["quality_handcrafted"].between(0, 1).all()  # hand-crafted indicators still run
