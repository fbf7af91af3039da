"""MIG sampling (paper Alg. 1) as a plain function: labels + scores + label graph + budget -> picks in order."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from selection_ops.foundation import devices
from selection_ops.mig.gains import NumpyGains, TorchGains
from selection_ops.mig.label_graph import LabelGraph
from selection_ops.mig.lazy_greedy import GainEvaluator, GreedyRun, lazy_greedy, lazy_greedy_numba
from selection_ops.mig.params import MigParams
from selection_ops.mig.propagation import propagated_information

logger = logging.getLogger(__name__)


def resolve_device(device: str) -> str:
    """"auto" -> "cuda" when torch sees a GPU, else "cpu"; "cuda" without a GPU is an error (``foundation.devices``)"""
    if device not in ("auto", "cpu", "cuda"):
        raise ValueError(f"MIG device must be auto, cpu or cuda, got {device!r}")
    return devices.resolve_device(device, owner="MIG device")


BACKENDS = ("numba", "numpy", "torch-cpu", "torch-cuda")


def make_evaluator(information: sp.csr_matrix, params: MigParams, backend: str) -> GainEvaluator:
    """The gain evaluator of the vectorised lazy greedy: backend "numpy", "torch-cpu" or "torch-cuda"."""
    if backend == "numpy":
        return NumpyGains(information, params.phi_function(), params.gain)
    if backend in ("torch-cpu", "torch-cuda"):
        return TorchGains(information, params.phi_function(), params.gain, device=backend.removeprefix("torch-"))
    raise ValueError(f"unknown MIG backend {backend!r}")


def check_budget(budget: int, pool_size: int) -> None:
    if not isinstance(budget, (int, np.integer)) or budget < 1:
        raise ValueError(f"mig: budget must be a positive integer, got {budget!r}")
    if budget > pool_size:
        raise ValueError(f"mig: budget {budget} is larger than the pool ({pool_size} samples)")


def mig_run(labels_per_sample: Sequence[Sequence[str]], scores: Sequence[float] | np.ndarray, graph: LabelGraph,
            budget: int, params: MigParams | None = None, *, ids: Sequence[str] | None = None,
            backend: str | None = None) -> GreedyRun:
    """Picks and their gains.

    ``backend`` overrides ``params.device``: "numba" (compiled heap, the CPU default), "numpy" (vectorised bucket
    queue, no compiler), "torch-cpu" or "torch-cuda" (the bucket queue with gains summed by torch; the GPU path).
    All four return the same picks.
    """
    params = params or MigParams()
    check_budget(budget, len(labels_per_sample))
    if backend is None:
        backend = "torch-cuda" if resolve_device(params.device) == "cuda" else "numba"
    if backend not in BACKENDS:
        raise ValueError(f"unknown MIG backend {backend!r}; known: {BACKENDS}")
    started = time.perf_counter()
    information = propagated_information(labels_per_sample, scores, graph.at_threshold(params.threshold),
                                         params.prop_weight, params.norm, ids)
    logger.info("MIG: propagated information of %d samples over %d labels (%d non-zeros) in %.2fs; backend %s",
                information.shape[0], information.shape[1], information.nnz, time.perf_counter() - started, backend)
    if backend == "numba":
        try:
            return lazy_greedy_numba(information, params.phi_function(), params.gain, int(budget))
        except ImportError as error:  # numba is a dependency, but keep MIG usable where it cannot be imported
            logger.warning("numba unavailable (%s): using the numpy lazy greedy (same picks, slower)", error)
            backend = "numpy"
    first_chunk = 1 << 20 if backend.startswith("torch") else 8  # torch: one device call per bucket
    return lazy_greedy(make_evaluator(information, params, backend), int(budget), first_chunk=first_chunk)


def mig_select(labels_per_sample: Sequence[Sequence[str]], scores: Sequence[float] | np.ndarray, graph: LabelGraph,
               budget: int, params: MigParams | None = None, *, ids: Sequence[str] | None = None) -> np.ndarray:
    """(budget,) int64 pool rows in MIG's greedy order (Alg. 1; pick rule in ``selection_ops.mig.lazy_greedy``).

    labels_per_sample: (N,) label lists; scores: (N,) finite scores >= 0; graph: the pool's label graph, used as
    built, or re-thresholded at params.threshold when one is given (it must be >= the graph's).
    """
    return mig_run(labels_per_sample, scores, graph, budget, params, ids=ids).indices
