"""Annotators never run a model repository's own code unless the caller sets trust_remote_code explicitly."""

import types

import pytest

from selection_ops.annotation import models


@pytest.fixture
def recorded(monkeypatch):
    import transformers

    calls = []

    def fake_from_pretrained(*args, **kwargs):
        calls.append(kwargs)
        return types.SimpleNamespace(pad_token="<pad>", eos_token="<eos>", to=lambda device: types.SimpleNamespace(
            eval=lambda: "model"))

    for cls in (transformers.AutoTokenizer, transformers.AutoModelForCausalLM):
        monkeypatch.setattr(cls, "from_pretrained", fake_from_pretrained)
    models.load_tokenizer.cache_clear()
    models.load_causal_lm.cache_clear()
    yield calls
    models.load_tokenizer.cache_clear()
    models.load_causal_lm.cache_clear()


def test_off_by_default_on_only_when_asked(recorded):
    models.load_tokenizer("some/model")
    models.load_causal_lm("some/model", "cpu", "float32")
    assert [call["trust_remote_code"] for call in recorded] == [False, False]
    models.load_tokenizer("some/model", trust_remote_code=True)
    assert recorded[-1]["trust_remote_code"] is True
