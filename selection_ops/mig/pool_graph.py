"""The label graph a selector or metric uses for a PoolView."""

from __future__ import annotations

import logging

from selection_ops.data_model import PoolView
from selection_ops.mig.encoder import MINILM_LABEL_GRAPH_THRESHOLD
from selection_ops.mig.label_graph import LabelGraph, build_label_graph, default_label_encoder

logger = logging.getLogger(__name__)


def pool_label_graph(pool: PoolView, threshold: float | None) -> LabelGraph:
    """``pool.label_graph``, or a graph built now from the pool's labels with the default offline encoder
    (all-MiniLM-L6-v2; the paper uses E5-Mistral-7B-Instruct) at ``threshold`` (None: the MiniLM threshold)."""
    if pool.label_graph is not None:
        if not isinstance(pool.label_graph, LabelGraph):
            raise TypeError(f"pool.label_graph must be a selection_ops.mig.label_graph.LabelGraph, "
                            f"got {type(pool.label_graph).__name__}")
        return pool.label_graph
    threshold = MINILM_LABEL_GRAPH_THRESHOLD if threshold is None else threshold
    logger.info("the pool has no label graph: building one over its labels with the default encoder "
                "(all-MiniLM-L6-v2) at threshold %s", threshold)
    return build_label_graph(pool.labels, default_label_encoder(), threshold=threshold)
