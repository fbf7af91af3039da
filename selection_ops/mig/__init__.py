"""MIG (Maximize the Information Gain, Chen et al. 2025): label graph, propagation, phi, sampler and E(D).

Plain functions for use without the registry: ``mig_select`` (Alg. 1) and ``dataset_information`` (Eq. 8).
"""

from selection_ops.mig.information import dataset_information, information_of
from selection_ops.mig.label_graph import (
                                           LabelGraph,
                                           build_label_graph,
                                           default_label_encoder,
                                           graph_stats,
                                           label_graph_from_edge_list,
                                           resolve_label_graph,
                                           save_edge_list,
)
from selection_ops.mig.params import InformationParams, MigParams
from selection_ops.mig.sampler import mig_run, mig_select

__all__ = ["InformationParams", "LabelGraph", "MigParams", "build_label_graph", "dataset_information",
           "default_label_encoder", "graph_stats", "information_of", "label_graph_from_edge_list", "mig_run",
           "mig_select", "resolve_label_graph", "save_edge_list"]
