"""Input helpers shared by the metric modules: a view's embeddings checked and shaped, the compute device.

Not a metric family: it registers nothing.
"""

from __future__ import annotations

import numpy as np

from selection_ops.data_model import MissingFieldError, PoolView, normalize_rows
from selection_ops.foundation.devices import cuda_available


def embeddings_of(view: PoolView, metric: str, *, normalize: bool, role: str = "subset") -> np.ndarray:
    """``view.embeddings`` as C-contiguous float32 (n, d), unit-norm rows when ``normalize``.

    Raises MissingFieldError when the view has no embeddings, ValueError naming the record when a row is not
    finite or (with ``normalize``) has zero norm, since cosine geometry is undefined for it.
    """
    if view.embeddings is None:
        raise MissingFieldError(f"metric {metric} needs embeddings; the {role} has none")
    matrix = np.ascontiguousarray(view.embeddings, dtype=np.float32)
    finite = np.isfinite(matrix).all(axis=1)
    if not finite.all():
        bad = int(np.flatnonzero(~finite)[0])
        raise ValueError(f"metric {metric}: {role} record {view.ids[bad]!r} has a non-finite embedding")
    if normalize:
        zero = ~(np.abs(matrix) > 0).any(axis=1)
        if zero.any():
            bad = int(np.flatnonzero(zero)[0])
            raise ValueError(f"metric {metric}: {role} record {view.ids[bad]!r} has an all-zero embedding "
                             "(cosine similarity is undefined)")
        matrix = np.ascontiguousarray(normalize_rows(matrix))
    return matrix


def require_rows(view: PoolView, metric: str, minimum: int, role: str = "subset") -> None:
    """ValueError when ``view`` has fewer than ``minimum`` rows, naming the metric."""
    if len(view) < minimum:
        raise ValueError(f"metric {metric} needs at least {minimum} samples in the {role}, got {len(view)}")


def torch_cuda_device():  # -> torch.device | None
    """The CUDA device when torch sees one, else None (numpy/BLAS on CPU is used then).

    Asks ``foundation.devices.cuda_available``, which answers without importing torch where no NVIDIA driver is
    visible (an import costs seconds, more than most metrics on small subsets).
    """
    if not cuda_available():
        return None
    import torch

    return torch.device("cuda")
