"""Model-based annotators with the real offline SmolLM2-135M-Instruct (GGUF) on a handful of short samples."""

import random
import string

import numpy as np
import pytest

from selection_ops.annotation.deita import DeitaScorer
from selection_ops.annotation.embedders import CausalLMEmbedder
from selection_ops.annotation.ifd import IFDScorer
from selection_ops.annotation.models import default_causal_lm_path, load_causal_lm, load_tokenizer
from selection_ops.annotation.text import sample_from_record

pytestmark = pytest.mark.slow  # loading SmolLM2 from GGUF takes ~30 s (minutes on a busy 2-core machine)


def _pair(record_id, query, reply):
    return sample_from_record(record_id, [{"role": "user", "content": query}, {"role": "assistant", "content": reply}])


@pytest.fixture(scope="module")
def random_string():
    rng = random.Random(1234)
    return " ".join("".join(rng.choice(string.ascii_lowercase) for _ in range(5)) for _ in range(8))


def test_ifd_low_when_the_instruction_contains_the_answer(random_string):
    samples = [_pair("repeat", f"Repeat exactly: {random_string}", random_string),
               _pair("unrelated", "Name a colour.", random_string)]
    rows = IFDScorer(batch_size=2).annotate(samples)
    repeat, unrelated = rows
    # same response tokens in the direct pass -> the same direct loss
    assert repeat["ifd_loss_direct"] == pytest.approx(unrelated["ifd_loss_direct"], rel=1e-4)
    assert repeat["ifd"] < 0.5 < unrelated["ifd"]  # copying is easy given the instruction, random letters are not
    assert repeat["superfilter_ratio"] == pytest.approx(np.exp(repeat["ifd_loss_conditioned"]
                                                               - repeat["ifd_loss_direct"]), rel=1e-9)
    # batching does not change the losses (right padding, masked)
    alone = IFDScorer(batch_size=1).annotate(samples[1:])
    assert alone[0]["ifd"] == pytest.approx(unrelated["ifd"], rel=1e-4)


def test_deita_scores_in_range_per_turn_and_batch_invariant(real_pool):
    from selection_ops.annotation.pipeline import samples_from_pool

    samples = samples_from_pool(real_pool.iloc[[0, 1, 49]])  # two Alpaca records and a multi-turn LIMA one
    short = [sample_from_record(s.id, [{"role": r, "content": c[:300]} for q, a in s.turns
                                       for r, c in (("user", q), ("assistant", a))]) for s in samples]
    scorer = DeitaScorer("complexity", max_tokens=256, batch_size=4)
    rows = scorer.annotate(short)
    assert [len(r["deita_complexity_turns"]) for r in rows] == [len(s.turns) for s in short]
    assert all(1.0 <= v <= 6.0 for r in rows for v in r["deita_complexity_turns"])
    single = DeitaScorer("complexity", max_tokens=256, batch_size=1).annotate(short[:1])
    assert single[0]["deita_complexity"] == pytest.approx(rows[0]["deita_complexity"], abs=1e-4)
    # same batch shape, same numbers (run to run)
    assert scorer.annotate(short[:1])[0]["deita_complexity_turns"] == single[0]["deita_complexity_turns"]


def test_causal_embeddings_mean_and_last_token(random_string):
    texts = ["The cat sat on the mat.", random_string * 40]  # the second exceeds 256 tokens
    mean = CausalLMEmbedder(pooling="mean", max_tokens=256, batch_size=2).encode(texts)
    last = CausalLMEmbedder(pooling="last", max_tokens=256, batch_size=2).encode(texts)
    assert mean.shape == last.shape == (2, 576) and mean.dtype == np.float32
    # by hand, unbatched: mean / last of the last hidden state over the first 256 tokens
    import torch

    path = default_causal_lm_path()
    tokenizer, model = load_tokenizer(path), load_causal_lm(path, "cpu", "auto")
    ids = tokenizer(texts[1], return_tensors="pt", truncation=True, max_length=256)
    assert ids["input_ids"].shape[1] == 256
    with torch.inference_mode():
        hidden = model(**ids, output_hidden_states=True).hidden_states[-1][0]
    np.testing.assert_allclose(mean[1], hidden.mean(dim=0).numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(last[1], hidden[-1].numpy(), rtol=1e-4, atol=1e-4)


def test_instag_prompt_through_transformers_gives_tags_or_a_record():
    from selection_ops.annotation.llm_tagger import LLMTagger, TransformersBackend

    tagger = LLMTagger(TransformersBackend(max_new_tokens=24, batch_size=1, device="cpu"), max_retries=0)
    rows = tagger.annotate([_pair("t1", "Write a short poem about the sea.", "Waves.")])
    assert len(rows) == 1
    for row in rows:  # a 135M model may not follow the format; then the reply is recorded, never invented
        parsed = bool(row["raw_tags"]) and row["tag_parse_error"] == ""
        recorded = row["raw_tags"] == [] and row["tag_parse_error"].startswith("unparseable after 1 attempts")
        assert parsed != recorded
