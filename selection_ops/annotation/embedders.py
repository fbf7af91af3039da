"""Sample embeddings: a sentence-transformers encoder (default: offline all-MiniLM-L6-v2) or a causal LM.

Causal-LM pooling follows the papers that use it:
- ``mean``: mean of the last hidden state over the first ``max_tokens`` (256) tokens, padding masked out
  (NovelSum, Appx. A.1);
- ``last``: the last hidden state of the last real token (DEITA's embedding for its score-first diversity
  filter).
Both run batched, in bf16/fp16 on a GPU and fp32 on CPU (``models.resolve_dtype``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from selection_ops.annotation.base import Annotator
from selection_ops.annotation.models import (
    ModelHolder,
    default_sentence_encoder_path,
    load_causal_lm,
    load_sentence_transformer,
    load_tokenizer,
    resolve_device,
)
from selection_ops.annotation.text import Sample


class Embedder(Protocol):
    """Anything that maps texts to a (n_texts, dim) float32 matrix and can name its settings."""

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...

    def settings(self) -> dict[str, Any]: ...


class SentenceTransformerEmbedder:
    """Sentence-transformers encoder; ``model_path`` empty -> the bundled offline MiniLM. L2-normalised rows."""

    def __init__(self, model_path: str = "", batch_size: int = 64, device: str = "auto",
                 normalize: bool = True) -> None:
        self.model_path = model_path or default_sentence_encoder_path()
        self.batch_size = batch_size
        self.device = device
        self.normalize = normalize

    def settings(self) -> dict[str, Any]:
        return {"kind": "sentence-transformers", "model": self.model_path, "normalize": self.normalize}

    @property
    def model(self) -> Any:
        return load_sentence_transformer(self.model_path, resolve_device(self.device))

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """(n_texts, dim) float32."""
        if len(texts) == 0:
            return np.zeros((0, self.model[0].get_word_embedding_dimension()), dtype=np.float32)
        vectors = self.model.encode(list(texts), batch_size=self.batch_size, convert_to_numpy=True,
                                    normalize_embeddings=self.normalize, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)


class CausalLMEmbedder(ModelHolder):
    """Pooled last hidden state of any Hugging Face causal LM (folder, Hub id or ``.gguf`` file path)."""

    default_max_tokens = 256
    default_batch_size = 8

    def __init__(self, model_path: str = "", pooling: str = "mean", max_tokens: int | None = None,
                 batch_size: int | None = None, device: str = "auto", dtype: str = "auto") -> None:
        if pooling not in ("mean", "last"):
            raise ValueError(f"pooling must be 'mean' (NovelSum) or 'last' (DEITA), got {pooling!r}")
        super().__init__(model_path, max_tokens, batch_size, device, dtype)
        self.pooling = pooling

    def settings(self) -> dict[str, Any]:
        return {"kind": "causal-lm", "pooling": self.pooling, **self.model_settings()}

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """(n_texts, hidden_size) float32; mean over real tokens, or the last real token's state."""
        import torch

        tokenizer = load_tokenizer(self.model_path)
        model = load_causal_lm(self.model_path, self.device, self.dtype)
        tokenizer.padding_side = "right"
        pooled: list[np.ndarray] = []
        for start in range(0, len(texts), self.batch_size):
            batch = list(texts[start:start + self.batch_size])
            encoded = tokenizer(batch, return_tensors="pt", padding=True, truncation=True,
                                max_length=self.max_tokens).to(self.device)
            with torch.inference_mode():
                hidden = model(**encoded, output_hidden_states=True).hidden_states[-1].float()  # (b, t, h)
            mask = encoded["attention_mask"].unsqueeze(-1).float()  # (b, t, 1)
            if self.pooling == "mean":
                vectors = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
            else:
                last = encoded["attention_mask"].sum(dim=1) - 1  # (b,)
                vectors = hidden[torch.arange(hidden.shape[0], device=hidden.device), last]
            pooled.append(vectors.cpu().numpy().astype(np.float32))
        if not pooled:
            return np.zeros((0, model.config.hidden_size), dtype=np.float32)
        return np.concatenate(pooled, axis=0)


class EmbeddingAnnotator(Annotator):
    """Writes column ``embedding`` (list of float32) for each sample's full text (``Sample.text``)."""

    name = "embedding"
    version = "1"

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def settings(self) -> dict[str, Any]:
        return self.embedder.settings()

    def output_columns(self) -> tuple[str, ...]:
        return ("embedding",)

    def annotate(self, samples: Sequence[Sample]) -> list[dict[str, Any]]:
        vectors = self.embedder.encode([s.text for s in samples])
        return [{"embedding": row.astype(np.float32)} for row in vectors]
