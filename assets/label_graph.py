"""The label graph stage (MIG Eq. 3): labels as nodes, thresholded label-embedding cosine similarity as edges."""

import pandas as pd
from dagster import AssetExecutionContext, Config, MetadataValue, Output, asset
from pydantic import Field

from dagster_project.constants import GROUP_LABEL_GRAPH
from dagster_project.paths import state_dir
from selection_ops.mig.encoder import MINILM_LABEL_GRAPH_THRESHOLD


class LabelGraphConfig(Config):
    threshold: float = Field(MINILM_LABEL_GRAPH_THRESHOLD, description="Keep an edge when label cosine similarity >= "
                             "threshold; MIG's 0.9 (A.2) is for E5-Mistral, the default is for the MiniLM encoder")
    valid_labels_path: str | None = Field(None, description="JSON list of valid labels; others are dropped first")


def build_label_graph_assets() -> list:
    @asset(group_name=GROUP_LABEL_GRAPH)
    def label_graph(context: AssetExecutionContext, config: LabelGraphConfig, annotations: pd.DataFrame) -> Output:
        """The pool's label graph, also written as an edge-list CSV (``source,target,similarity``) to inspect/reuse."""
        import json

        from selection_ops.mig.graph_stats import degree_histogram_markdown, degree_statistics
        from selection_ops.mig.label_graph import build_label_graph, default_label_encoder, graph_stats, save_edge_list

        valid = None if config.valid_labels_path is None else json.loads(open(config.valid_labels_path).read())
        labels = [list(x) for x in annotations["labels"]]
        graph = build_label_graph(labels, default_label_encoder(), threshold=config.threshold, valid_labels=valid)
        csv_path = state_dir() / "label_graph" / "edges.csv"
        csv_path.parent.mkdir(parents=True, exist_ok=True)
        save_edge_list(graph, csv_path)
        stats = {k: (float(v) if isinstance(v, float) else int(v))
                 for k, v in {**graph_stats(graph), **degree_statistics(graph)}.items()}
        context.log.info(f"label graph: {stats}")
        return Output(graph, metadata={**stats, "threshold": config.threshold, "edge_list": str(csv_path),
                                       "degree_distribution": MetadataValue.md(degree_histogram_markdown(graph))})

    return [label_graph]
