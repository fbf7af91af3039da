"""The model-holding annotators share one constructor (``ModelHolder``) and keep their cache keys unchanged."""

import pytest

from selection_ops.annotation.deita import DeitaScorer
from selection_ops.annotation.embedders import CausalLMEmbedder
from selection_ops.annotation.ifd import IFDScorer
from selection_ops.annotation.llm_tagger import TransformersBackend
from selection_ops.annotation.models import ModelHolder, default_causal_lm_path
from selection_ops.annotation.reward import RewardScorer
from selection_ops.annotation.store import fingerprint_hash
from selection_ops.foundation.devices import cuda_available


def test_each_class_keeps_its_defaults():
    defaults = {cls: (obj.max_tokens, obj.batch_size) for cls, obj in (
        (IFDScorer, IFDScorer()), (DeitaScorer, DeitaScorer("quality")), (CausalLMEmbedder, CausalLMEmbedder()),
        (TransformersBackend, TransformersBackend()), (RewardScorer, RewardScorer("/rm")))}
    assert defaults == {IFDScorer: (1024, 4), DeitaScorer: (2048, 4), CausalLMEmbedder: (256, 8),
                        TransformersBackend: (256, 8), RewardScorer: (1024, 4)}
    assert all(issubclass(cls, ModelHolder) for cls in defaults)
    assert IFDScorer().model_path == default_causal_lm_path()
    assert IFDScorer().device == ("cuda" if cuda_available() else "cpu")


def test_a_model_without_a_bundled_default_must_be_named():
    with pytest.raises(ValueError, match="RewardScorer needs model_path"):
        RewardScorer("")
    with pytest.raises(ValueError, match="aspect"):
        DeitaScorer("fluency")


def test_fingerprints_are_those_of_the_former_constructors():
    """Same settings -> same shard-store key, so stores written before the refactor are reused, not recomputed."""
    assert IFDScorer("/m", 512).fingerprint() == {"annotator": "ifd", "version": "1", "model": "/m",
                                                  "max_tokens": 512, "dtype": "auto"}
    assert fingerprint_hash(RewardScorer("/rm", dtype="bf16").fingerprint()) == fingerprint_hash(
        {"annotator": "reward", "version": "1", "model": "/rm", "max_tokens": 1024, "dtype": "bf16"})
    assert set(DeitaScorer("complexity", "/m").settings()) == {"model", "template_sha1", "max_tokens", "dtype"}
    assert CausalLMEmbedder("/m", "last", 128).settings() == {"kind": "causal-lm", "model": "/m", "pooling": "last",
                                                             "max_tokens": 128, "dtype": "auto"}
    assert TransformersBackend("/m", max_new_tokens=64).settings() == {"backend": "transformers", "model": "/m",
                                                                       "max_new_tokens": 64}
