"""Half-precision model annotators on a GPU agree with the float32 CPU run (skipped without CUDA)."""

import numpy as np
import pytest

from selection_ops.annotation.embedders import CausalLMEmbedder
from selection_ops.annotation.ifd import IFDScorer
from selection_ops.annotation.models import resolve_dtype
from selection_ops.annotation.text import sample_from_record

pytestmark = pytest.mark.gpu


def test_auto_dtype_is_half_on_gpu():
    import torch

    assert resolve_dtype("auto", "cuda") in (torch.bfloat16, torch.float16)
    assert resolve_dtype("auto", "cpu") == torch.float32


def test_gpu_causal_embeddings_and_ifd_match_cpu():
    texts = ["The cat sat on the mat.", "Explain gradient descent in two sentences."]
    gpu = CausalLMEmbedder(device="cuda", dtype="auto").encode(texts)
    cpu = CausalLMEmbedder(device="cpu", dtype="float32").encode(texts)
    cosine = (gpu * cpu).sum(axis=1) / np.linalg.norm(gpu, axis=1) / np.linalg.norm(cpu, axis=1)
    assert (cosine > 0.99).all()
    sample = sample_from_record("g", [{"role": "user", "content": "Repeat exactly: alpha beta gamma"},
                                      {"role": "assistant", "content": "alpha beta gamma"}])
    on_gpu = IFDScorer(device="cuda").annotate([sample])[0]["ifd"]
    on_cpu = IFDScorer(device="cpu", dtype="float32").annotate([sample])[0]["ifd"]
    assert on_gpu == pytest.approx(on_cpu, abs=0.05)
