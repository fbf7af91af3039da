"""Gain evaluators: the greedy step's gain of candidate rows of V against the information selected so far.

gain_i = (x_i P) . phi'(x_sel)                         ("linear", the official gradient gain, Eqs. 10-11)
gain_i = sum_j phi(x_sel_j + (x_i P)_j) - phi(x_sel_j)  ("exact", the marginal gain of Eq. 9)

Both only touch the non-zeros of row i of the sparse V = X P. ``NumpyGains`` runs on the CPU; ``TorchGains`` is the
same arithmetic in torch (CUDA or CPU). Every row's gain is a sum over its non-zeros in their stored order, so a
row's value does not depend on which batch it is evaluated in.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import scipy.sparse as sp

from selection_ops.mig.phi import Phi

GainRule = Literal["linear", "exact"]


def _gather_layout(indptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions into V's data of the non-zeros of ``rows`` (k,), concatenated, and the batch row of each."""
    starts = indptr[rows]
    lengths = indptr[rows + 1] - starts
    segment = np.repeat(np.arange(len(rows)), lengths)
    offsets = np.cumsum(lengths) - lengths
    positions = np.arange(int(lengths.sum()), dtype=np.int64) + np.repeat(starts - offsets, lengths)
    return positions, segment


class NumpyGains:
    """Gains on numpy. information: V (n, L) CSR float64."""

    def __init__(self, information: sp.csr_matrix, phi: Phi, rule: GainRule = "linear") -> None:
        self.information = information
        self.indptr = information.indptr.astype(np.int64)
        self.indices = information.indices.astype(np.int64)
        self.data = information.data
        self.phi = phi
        self.rule = rule
        self.selected = np.zeros(information.shape[1])  # x_sel (L,)
        self.weights = phi.derivative(self.selected)  # phi'(x_sel) (L,)

    @property
    def n(self) -> int:
        return self.information.shape[0]

    def empty_rows(self) -> np.ndarray:
        """(n,) bool: rows without information (no kept label, or score 0); their gain is 0 forever."""
        return np.diff(self.indptr) == 0

    def _terms(self, positions: np.ndarray) -> np.ndarray:
        columns = self.indices[positions]
        values = self.data[positions]
        if self.rule == "linear":
            return values * self.weights[columns]
        return self.phi.marginal(self.selected[columns], values)

    def gains(self, rows: np.ndarray) -> np.ndarray:
        """(k,) float64 gains of ``rows`` (k,) at the current x_sel."""
        positions, segment = _gather_layout(self.indptr, rows)
        return np.bincount(segment, weights=self._terms(positions), minlength=len(rows))

    def all_gains(self) -> np.ndarray:
        """(n,) gains of every row (for the initial bounds and the full rescan)."""
        if self.rule == "linear":
            return self.information @ self.weights
        rows = np.repeat(np.arange(self.n), np.diff(self.indptr))
        return np.bincount(rows, weights=self._terms(np.arange(len(self.data))), minlength=self.n)

    def add(self, row: int) -> None:
        """x_sel += x_row P, and refresh phi' on the labels it touches."""
        start, end = self.indptr[row], self.indptr[row + 1]
        columns = self.indices[start:end]
        self.selected[columns] += self.data[start:end]
        self.weights[columns] = self.phi.derivative(self.selected[columns])


class TorchGains:
    """The same gains in torch float64 on ``device``; the row layout is computed on the host, the sums on the device.

    A batch is laid out as a padded (k, max_len) block and summed along rows, which is deterministic on CUDA
    (unlike scatter-add), so a row's gain is reproducible.
    """

    def __init__(self, information: sp.csr_matrix, phi: Phi, rule: GainRule = "linear",
                 device: str = "cuda") -> None:
        import torch

        self.torch = torch
        self.device = torch.device(device)
        self.indptr = information.indptr.astype(np.int64)
        self.indices = torch.from_numpy(information.indices.astype(np.int64)).to(self.device)
        self.data = torch.from_numpy(np.asarray(information.data, dtype=np.float64)).to(self.device)
        self.shape = information.shape
        self.phi = phi
        self.rule = rule
        self.selected = torch.zeros(information.shape[1], dtype=torch.float64, device=self.device)
        self.weights = phi.derivative(self.selected)

    @property
    def n(self) -> int:
        return self.shape[0]

    def empty_rows(self) -> np.ndarray:
        return np.diff(self.indptr) == 0

    def _terms(self, columns: Any, values: Any) -> Any:
        if self.rule == "linear":
            return values * self.weights[columns]
        return self.phi.marginal(self.selected[columns], values)

    def gains(self, rows: np.ndarray) -> np.ndarray:
        torch = self.torch
        starts = self.indptr[rows]
        lengths = self.indptr[rows + 1] - starts
        width = max(int(lengths.max()), 1) if len(rows) else 1
        offsets = np.arange(width)
        mask = offsets[None, :] < lengths[:, None]
        positions = np.where(mask, starts[:, None] + offsets[None, :], 0)
        positions_t = torch.from_numpy(positions).to(self.device, non_blocking=True)
        mask_t = torch.from_numpy(mask).to(self.device, non_blocking=True)
        values = torch.where(mask_t, self.data[positions_t], 0.0)
        terms = self._terms(self.indices[positions_t], values)
        return torch.where(mask_t, terms, 0.0).sum(dim=1).cpu().numpy()

    def all_gains(self) -> np.ndarray:
        torch = self.torch
        rows = torch.from_numpy(np.repeat(np.arange(self.n), np.diff(self.indptr))).to(self.device)
        out = torch.zeros(self.n, dtype=torch.float64, device=self.device)
        out.index_add_(0, rows, self._terms(self.indices, self.data))
        return out.cpu().numpy()

    def add(self, row: int) -> None:
        start, end = int(self.indptr[row]), int(self.indptr[row + 1])
        columns = self.indices[start:end]
        self.selected[columns] += self.data[start:end]
        self.weights[columns] = self.phi.derivative(self.selected[columns])
