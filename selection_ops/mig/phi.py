"""The information score function phi of MIG (paper Sec. 3.2 and Eqs. 12-13), its derivative and marginal gain.

Two concave, increasing families, both with phi(0) = 0 so that E(empty set) = 0:

- ``pow``: phi(x) = (x + a)^b - a^b, phi'(x) = b (x + a)^(b-1). The official code's derivative (paper: phi(x) = x^0.8);
  the offset a (default 1e-6) keeps phi'(0) finite and the constant -a^b only makes phi(0) = 0.
- ``exp``: phi(x) = 1 - exp(-alpha x) (Eq. 12), phi'(x) = alpha exp(-alpha x).

Every function takes numpy arrays or torch tensors (element-wise), so the CPU and GPU samplers share one definition.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

PhiName = Literal["pow", "exp"]


def _array_module(x: Any) -> Any:
    """numpy for arrays and scalars, torch for tensors (torch is imported only when a tensor is passed)."""
    if type(x).__module__.startswith("torch"):
        import torch

        return torch
    return np


@dataclass(frozen=True)
class Phi:
    """One member of the family: ``name`` with its constants (a, b for pow; alpha for exp)."""

    name: PhiName = "pow"
    a: float = 1e-6
    b: float = 0.8
    alpha: float = 1.0

    def __post_init__(self) -> None:
        if self.name == "pow":
            if not (self.a > 0 and math.isfinite(self.a)):
                raise ValueError(f"phi 'pow' needs phi_a > 0 (phi'(0) = b a^(b-1) must be finite), got {self.a}")
            if not 0 < self.b <= 1:
                raise ValueError(f"phi 'pow' needs 0 < phi_b <= 1 (increasing and concave), got {self.b}")
        elif self.name == "exp":
            if not (self.alpha > 0 and math.isfinite(self.alpha)):
                raise ValueError(f"phi 'exp' needs phi_alpha > 0, got {self.alpha}")
        else:
            raise ValueError(f"phi must be 'pow' or 'exp', got {self.name!r}")

    def value(self, x: Any) -> Any:
        """phi(x) element-wise; x >= 0."""
        xp = _array_module(x)
        if self.name == "pow":
            return (x + self.a) ** self.b - self.a**self.b
        return -xp.expm1(-self.alpha * x)

    def derivative(self, x: Any) -> Any:
        """phi'(x) element-wise: the label weights of the linearised gain (Alg. 1, line 4; Eq. 10)."""
        xp = _array_module(x)
        if self.name == "pow":
            return self.b * (x + self.a) ** (self.b - 1.0)
        return self.alpha * xp.exp(-self.alpha * x)

    def marginal(self, x: Any, v: Any) -> Any:
        """phi(x + v) - phi(x) element-wise for v >= 0 (the summand of the exact gain, Eq. 9 / Eq. 15).

        Written without the cancellation of the plain difference:
        pow: (x + a)^b * expm1(b * log1p(v / (x + a)));  exp: exp(-alpha x) * (-expm1(-alpha v)).
        """
        xp = _array_module(x)
        if self.name == "pow":
            base = x + self.a
            return base**self.b * xp.expm1(self.b * xp.log1p(v / base))
        return xp.exp(-self.alpha * x) * -xp.expm1(-self.alpha * v)
