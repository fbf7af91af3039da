"""The label graph stage (MIG Eq. 3): labels as nodes, thresholded label-embedding cosine similarity as edges."""

import json

import pandas as pd
from dagster import AssetExecutionContext, Config, MetadataValue, Output, asset
from pydantic import Field

from assets.checks import LABEL_GRAPH_CHECKS, label_graph_checks, specs
from assets.versioning import frame_digest, json_digest, sha, version
from dagster_project.constants import GROUP_LABEL_GRAPH
from resources.study_layout import StudyLayout
from selection_ops.mig.encoder import MINILM_LABEL_GRAPH_THRESHOLD

LABEL_GRAPH_CODE_VERSION = "2"


class LabelGraphConfig(Config):
    threshold: float = Field(MINILM_LABEL_GRAPH_THRESHOLD, description="Keep an edge when label cosine similarity >= "
                             "threshold; MIG's 0.9 (A.2) is for E5-Mistral, the default is for the MiniLM encoder")
    valid_labels_path: str | None = Field(None, description="JSON list of valid labels; others are dropped first")


def build_label_graph_assets() -> list:
    @asset(group_name=GROUP_LABEL_GRAPH, code_version=LABEL_GRAPH_CODE_VERSION,
           check_specs=specs("label_graph", LABEL_GRAPH_CHECKS))
    def label_graph(context: AssetExecutionContext, config: LabelGraphConfig, layout: StudyLayout,
                    annotations: pd.DataFrame):
        """The pool's label graph, also written as an edge-list CSV (``source,target,similarity``) to inspect/reuse."""
        from selection_ops.mig.graph_stats import degree_histogram_markdown, degree_statistics
        from selection_ops.mig.label_graph import build_label_graph, default_label_encoder, graph_stats, save_edge_list

        valid = None if config.valid_labels_path is None else json.loads(open(config.valid_labels_path).read())
        labels = [list(x) for x in annotations["labels"]]
        graph = build_label_graph(labels, default_label_encoder(), threshold=config.threshold, valid_labels=valid)
        fingerprint = sha([frame_digest(annotations[["id", "labels"]]), json_digest(config.model_dump())])
        csv_path = layout.label_graph_edges(fingerprint)
        save_edge_list(graph, csv_path)
        stats = {k: (float(v) if isinstance(v, float) else int(v))
                 for k, v in {**graph_stats(graph), **degree_statistics(graph)}.items()}
        context.log.info(f"label graph: {stats}")
        content = sha([csv_path.read_bytes()])
        yield Output(graph, data_version=version(content),
                     metadata={**stats, "threshold": config.threshold, "edge_list": str(csv_path),
                               "degree_distribution": MetadataValue.md(degree_histogram_markdown(graph))})
        yield from label_graph_checks(stats)

    return [label_graph]
