"""Dense full-rescan MIG, written straight from the semantics: the yardstick for tests and the benchmark.

Keeps V = X P as a dense (N, L) float64 array and recomputes every candidate's gain at every pick, like the official
implementation (which does this on the GPU); O(budget * N * L) time and N * L memory.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from selection_ops.mig.label_graph import LabelGraph
from selection_ops.mig.lazy_greedy import TIE_RTOL, GreedyRun
from selection_ops.mig.params import MigParams
from selection_ops.mig.propagation import propagation_matrix, sample_label_matrix
from selection_ops.mig.sampler import check_budget

_EXACT_CHUNK = 8192  # rows per chunk when the exact gain needs an (rows, L) temporary


def dense_reference_run(labels_per_sample: Sequence[Sequence[str]], scores: Sequence[float] | np.ndarray,
                        graph: LabelGraph, budget: int, params: MigParams | None = None) -> GreedyRun:
    """Picks and gains of the literal greedy: gains of all rows, mask the picked, take the best (ties: lowest row)."""
    params = params or MigParams()
    check_budget(budget, len(labels_per_sample))
    graph = graph.at_threshold(params.threshold)
    phi = params.phi_function()
    raw = sample_label_matrix(labels_per_sample, scores, graph, params.norm)  # X (N, L)
    information = (raw @ propagation_matrix(graph, params.prop_weight)).toarray()  # V = X P, dense (N, L)
    selected = np.zeros(information.shape[1])  # x_sel (L,)
    taken = np.zeros(information.shape[0], dtype=bool)
    picks, pick_gains = [], []
    for _ in range(budget):
        if params.gain == "linear":
            gains = information @ phi.derivative(selected)
        else:
            gains = np.concatenate([phi.marginal(selected[None, :], information[start:start + _EXACT_CHUNK]).sum(1)
                                    for start in range(0, len(information), _EXACT_CHUNK)])
        gains[taken] = -np.inf
        best = gains.max()
        pick = int(np.flatnonzero(gains >= best * (1.0 - TIE_RTOL))[0])
        picks.append(pick)
        pick_gains.append(float(gains[pick]))
        taken[pick] = True
        selected += information[pick]
    return GreedyRun(np.asarray(picks, dtype=np.int64), np.asarray(pick_gains, dtype=np.float64))


def dense_reference_select(labels_per_sample: Sequence[Sequence[str]], scores: Sequence[float] | np.ndarray,
                           graph: LabelGraph, budget: int, params: MigParams | None = None) -> np.ndarray:
    """(budget,) int64 picks of the dense full rescan."""
    return dense_reference_run(labels_per_sample, scores, graph, budget, params).indices
