"""MIG's parameters, shared by the selector ("mig"), the metric ("mig_information") and the plain functions.

Defaults follow the official implementation (yichengchen24/MIG, ``mig sample``): prop_weight 1.0, phi pow with
a = 1e-6, b = 0.8, norm off (its CLI default; its MIGSampler class alone defaults to norm on). The label-graph
threshold belongs to the label encoder, so it is set where the graph is built (official 0.9 for E5-Mistral, as
``infosift select --label-graph MODEL`` builds it; 0.6 for the offline MiniLM, ``MINILM_LABEL_GRAPH_THRESHOLD``);
``threshold`` here only raises it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from selection_ops.mig.phi import Phi


@dataclass(frozen=True)
class InformationParams:
    """What defines E(D) (Eq. 8): the label graph threshold, the propagation, phi and the sample vectors."""

    threshold: float | None = field(default=None, metadata={
        "help": "keep a label-graph edge when the cosine similarity of the two labels is >= this (inclusive); "
                "None: the graph's own threshold (0.9 built from a given model, 0.6 with the offline MiniLM)"})
    prop_weight: float = field(default=1.0, metadata={
        "help": "weight of off-diagonal edges in the propagation matrix before column normalisation (alpha, Eq. 6)"})
    phi: Literal["pow", "exp"] = field(default="pow", metadata={
        "help": "information score function: pow phi'(x) = b (x + a)^(b-1), or exp phi'(x) = alpha e^(-alpha x)"})
    phi_a: float = field(default=1e-6, metadata={"help": "offset a of the pow phi"})
    phi_b: float = field(default=0.8, metadata={"help": "exponent b of the pow phi, in (0, 1]"})
    phi_alpha: float = field(default=1.0, metadata={"help": "rate alpha of the exp phi"})
    norm: bool = field(default=False, metadata={
        "help": "divide a sample's score by its number of labels (duplicates counted) instead of giving each label "
                "the full score"})

    def phi_function(self) -> Phi:
        """The Phi these parameters name."""
        return Phi(self.phi, a=self.phi_a, b=self.phi_b, alpha=self.phi_alpha)

    def __post_init__(self) -> None:
        if not 0 <= self.prop_weight:
            raise ValueError(f"prop_weight must be >= 0, got {self.prop_weight}")
        self.phi_function()  # validates the phi constants early, with their names


@dataclass(frozen=True)
class MigParams(InformationParams):
    """MIG sampling (Alg. 1): the information parameters plus the gain rule and the compute device."""

    gain: Literal["linear", "exact"] = field(default="linear", metadata={
        "help": "linear: (x_i P) . phi'(x_sel), the official gradient gain (Eq. 10-11); "
                "exact: sum phi(x_sel + x_i P) - phi(x_sel), the true marginal gain (Eq. 9)"})
    device: Literal["auto", "cpu", "cuda"] = field(default="auto", metadata={
        "help": "auto: the torch path on CUDA when a GPU is present, else the numba path; cpu: numba (numpy "
                "where numba cannot be imported); "
                "cuda: torch on the GPU. All give the same picks"})
