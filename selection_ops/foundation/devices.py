"""Which device runs a model: the one place that asks whether a CUDA device exists.

Asking torch costs seconds of import; where no NVIDIA driver is visible and torch is not loaded yet the answer is
"no" without importing it.
"""

from __future__ import annotations

import os
import shutil
import sys
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def cuda_available() -> bool:
    """True when torch sees a CUDA device (cached: the answer does not change within a process)."""
    if "torch" not in sys.modules and not os.path.exists("/dev/nvidiactl") and shutil.which("nvidia-smi") is None:
        return False
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a declared dependency
        return False
    return bool(torch.cuda.is_available())


def cuda_device_count() -> int:
    """How many CUDA devices torch sees (0 without a driver)."""
    if not cuda_available():
        return 0
    import torch

    return int(torch.cuda.device_count())


def resolve_device(device: str = "auto", *, owner: str = "device") -> str:
    """``auto`` -> ``cuda`` when available else ``cpu``; ``cuda`` without a device is an error naming ``owner``."""
    if device == "auto":
        return "cuda" if cuda_available() else "cpu"
    if device.startswith("cuda") and not cuda_available():
        raise RuntimeError(f"{owner} 'cuda' was asked for but torch sees no CUDA device")
    return device


DTYPE_NAMES = {"float32": "float32", "fp32": "float32", "float16": "float16", "fp16": "float16",
               "bfloat16": "bfloat16", "bf16": "bfloat16"}


def resolve_dtype(dtype: str, device: str) -> Any:
    """``auto`` -> bfloat16 on a GPU that supports it, float16 on other GPUs, float32 on CPU; else the named dtype."""
    import torch

    if dtype == "auto":
        if device.startswith("cuda"):
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.float32
    if dtype not in DTYPE_NAMES:
        raise ValueError(f"dtype must be auto or one of {sorted(DTYPE_NAMES)}, got {dtype!r}")
    return getattr(torch, DTYPE_NAMES[dtype])
