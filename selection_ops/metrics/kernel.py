"""Kernel-spectrum diversity: Vendi score and log-determinant distance (NovelSum Appx. A.2, Eq. 15).

Both read the eigenvalues of the cosine-similarity kernel K = U U^T of the unit-norm subset rows U (n, d). The
non-zero eigenvalues of U U^T equal those of U^T U, so the smaller Gram matrix, (min(n, d))^2, is decomposed:
O(n d min(n, d) + min(n, d)^3) instead of O(n^3), and K is never built when n > d.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from selection_ops.data_model import PoolView
from selection_ops.metrics._inputs import embeddings_of, require_rows, torch_cuda_device
from selection_ops.registry import register_metric


def kernel_eigenvalues(unit: np.ndarray) -> np.ndarray:
    """Eigenvalues of U U^T that can be non-zero: (n, d) -> (min(n, d),) float64, clipped at 0, descending."""
    gram_side = unit if len(unit) <= unit.shape[1] else unit.T
    device = torch_cuda_device()
    if device is not None:
        import torch

        tensor = torch.from_numpy(np.ascontiguousarray(gram_side, dtype=np.float64)).to(device)
        values = torch.linalg.eigvalsh(tensor @ tensor.T).cpu().numpy()
    else:
        matrix = gram_side.astype(np.float64)
        values = np.linalg.eigvalsh(matrix @ matrix.T)
    return np.sort(np.clip(values, 0.0, None))[::-1]


def vendi_from_eigenvalues(normalized: np.ndarray, order: float) -> float:
    """exp(H_q), H_q the order-q Renyi entropy of eigenvalues summing to 1 (q = 1: Shannon)."""
    positive = normalized[normalized > 0]
    if np.isclose(order, 1.0):
        return float(np.exp(-(positive * np.log(positive)).sum()))
    return float(np.exp(np.log((positive**order).sum()) / (1.0 - order)))


@dataclass(frozen=True)
class VendiParams:
    order: float = field(default=0.5, metadata={"help": "alpha: order of the Vendi score (Eq. 15; 0.5 in NovelSum)"})


@register_metric("vendi", VendiParams, needs=("embeddings",))
def vendi(subset: PoolView, pool: PoolView, params: VendiParams) -> float:
    """Vendi score (Eq. 15) of order alpha with the cosine kernel: exp(log(sum_i lambda_i^alpha) / (1 - alpha)).

    lambda_i are the eigenvalues of K / n (they sum to 1 for unit rows). The natural log is used (Pasarkar &
    Dieng's definition): n identical samples score 1, n orthogonal samples score n. Eq. 15 prints log_2 inside exp,
    which would break both anchors; note the paper's Table 1 values (~1e7 for 10K samples) are also not on the
    [1, n] scale of K / n, so only orderings, not magnitudes, compare with it.
    """
    require_rows(subset, "vendi", 1)
    if params.order < 0:
        raise ValueError(f"metric vendi: order must be >= 0, got {params.order}")
    unit = embeddings_of(subset, "vendi", normalize=True)
    return vendi_from_eigenvalues(kernel_eigenvalues(unit) / len(unit), params.order)


@dataclass(frozen=True)
class LogDetParams:
    regularization: float = field(default=1e-6, metadata={
        "help": "epsilon added to the kernel diagonal so repeated rows or n > dim give a finite value"})


@register_metric("logdet", LogDetParams, needs=("embeddings",))
def log_determinant(subset: PoolView, pool: PoolView, params: LogDetParams) -> float:
    """Log-determinant diversity (Wang et al. 2024): log det(K + eps I) / n, K the cosine-similarity matrix.

    The maximally diverse reference (orthogonal samples, K = I) scores log(1 + eps) ~ 0, the top; the log-determinant
    *distance* to it is the negative of this value, so larger here means more diverse (the sign under which NovelSum
    Table 2 correlates it with performance). Dividing by n keeps subsets of different sizes comparable.
    Zero eigenvalues beyond min(n, d) contribute (n - d) log(eps) when n > d.
    """
    require_rows(subset, "logdet", 1)
    if params.regularization < 0:
        raise ValueError(f"metric logdet: regularization must be >= 0, got {params.regularization}")
    unit = embeddings_of(subset, "logdet", normalize=True)
    n = len(unit)
    values = kernel_eigenvalues(unit) + params.regularization
    missing = n - len(values)  # eigenvalues that are exactly zero because n > d
    with np.errstate(divide="ignore"):
        total = float(np.log(values).sum()) + (missing * float(np.log(params.regularization)) if missing else 0.0)
    return total / n
