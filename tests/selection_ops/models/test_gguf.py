"""The bundled GGUF is found in one place and its special tokens are fixed in one place (annotation and training)."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

from selection_ops.models import base_model, gguf


def test_one_discovery_serves_annotation_and_base_model_conversion() -> None:
    import resources.base_model
    from selection_ops.annotation.models import default_causal_lm_path

    path = gguf.default_gguf_path()
    assert path.endswith(".gguf") and Path(path).parent.name == gguf.SMOLLM2_PACKAGE
    assert default_causal_lm_path() == path
    assert base_model.default_base_model_gguf() == Path(path).resolve()
    assert resources.base_model.convert_gguf_to_hf is base_model.convert_gguf_to_hf  # the resource is a thin wrapper
    assert gguf.SMOLLM2_PACKAGE not in sys.modules  # found, not imported


def test_split_gguf() -> None:
    assert gguf.split_gguf("/m/model.Q4.gguf") == ("/m", {"gguf_file": "model.Q4.gguf"})
    assert gguf.split_gguf("HuggingFaceTB/SmolLM2-135M-Instruct") == ("HuggingFaceTB/SmolLM2-135M-Instruct", {})


class _Tokenizer:
    """The wrong special tokens transformers' GGUF conversion produces for SmolLM2."""

    vocabulary = {0: "<|endoftext|>", 1: "<|im_start|>", 2: "<|im_end|>"}

    def __init__(self) -> None:
        self.bos_token, self.eos_token, self.pad_token, self.add_bos_token = "<|im_start|>", "<|im_start|>", None, True

    def convert_ids_to_tokens(self, token_id: int) -> str:
        return self.vocabulary[token_id]


def test_special_tokens_come_from_the_gguf_metadata_ids() -> None:
    tokenizer = _Tokenizer()
    gguf.fix_gguf_special_tokens(tokenizer, SimpleNamespace(bos_token_id=1, eos_token_id=2, pad_token_id=2))
    assert (tokenizer.bos_token, tokenizer.eos_token, tokenizer.pad_token) == ("<|im_start|>", "<|im_end|>",
                                                                               "<|im_end|>")
    assert tokenizer.add_bos_token is False
    untouched = _Tokenizer()
    gguf.fix_gguf_special_tokens(untouched, SimpleNamespace(bos_token_id=None, eos_token_id=None, pad_token_id=None))
    assert (untouched.eos_token, untouched.pad_token, untouched.add_bos_token) == ("<|im_start|>", None, False)
