"""The label graph stage (MIG Eq. 3): labels as nodes, thresholded label-embedding cosine similarity as edges."""

import json

import pandas as pd
from dagster import AssetExecutionContext, Config, MetadataValue, Output, asset
from pydantic import Field

from assets.checks import LABEL_GRAPH_CHECKS, label_graph_checks, specs
from assets.constants import GROUP_LABEL_GRAPH
from assets.versioning import frame_digest, json_digest, sha, version
from resources.label_graph import LabelGraphResource
from resources.study_layout import StudyLayout
from selection_ops.mig.settings import LabelGraphSettings

LABEL_GRAPH_CODE_VERSION = "2"


class LabelGraphConfig(Config):
    threshold: float | None = Field(None, description="Keep an edge when label cosine similarity >= threshold; "
                                    "None = the study's label_graph resource (grid: annotation.label_graph)")
    valid_labels_path: str | None = Field(None, description="JSON list of valid labels; others are dropped first; "
                                          "None = the study's label_graph resource")


def build_label_graph_assets(settings: dict | None = None) -> list:
    """``settings``: the study's label-graph resource values; they are part of the code version (a changed threshold
    or encoder in the grid makes the graph stale); it stays ``2`` for the defaults so existing studies stay fresh."""
    changed = {k: v for k, v in (settings or {}).items() if v != LabelGraphSettings.model_fields[k].default}
    code_version = LABEL_GRAPH_CODE_VERSION + (f"-{json_digest(changed)[:8]}" if changed else "")

    @asset(group_name=GROUP_LABEL_GRAPH, code_version=code_version,
           check_specs=specs("label_graph", LABEL_GRAPH_CHECKS))
    def label_graph(context: AssetExecutionContext, config: LabelGraphConfig, layout: StudyLayout,
                    label_graph_settings: LabelGraphResource, annotations: pd.DataFrame):
        """The pool's label graph, also written as an edge-list CSV (``source,target,similarity``) to inspect/reuse."""
        from selection_ops.mig.graph_stats import degree_histogram_markdown, degree_statistics
        from selection_ops.mig.label_graph import build_label_graph, graph_stats, save_edge_list

        base = label_graph_settings.plain()
        chosen = base.model_copy(update={k: v for k, v in config.model_dump().items() if v is not None})
        settings_used = {"threshold": chosen.threshold, "valid_labels_path": chosen.valid_labels_path}
        if chosen.encoder:  # only a non-default encoder enters the fingerprint: the default's files keep their names
            settings_used["encoder"] = chosen.encoder
        valid = None if chosen.valid_labels_path is None else json.loads(open(chosen.valid_labels_path).read())
        labels = [list(x) for x in annotations["labels"]]
        graph = build_label_graph(labels, chosen.label_encoder(), threshold=chosen.threshold, valid_labels=valid)
        fingerprint = sha([frame_digest(annotations[["id", "labels"]]), json_digest(settings_used)])
        csv_path = layout.label_graph_edges(fingerprint)
        save_edge_list(graph, csv_path)
        stats = {k: (float(v) if isinstance(v, float) else int(v))
                 for k, v in {**graph_stats(graph), **degree_statistics(graph)}.items()}
        context.log.info(f"label graph: {stats}")
        content = sha([csv_path.read_bytes()])
        yield Output(graph, data_version=version(content),
                     metadata={**stats, "threshold": chosen.threshold,
                               "encoder": chosen.encoder or "all-MiniLM-L6-v2", "edge_list": str(csv_path),
                               "degree_distribution": MetadataValue.md(degree_histogram_markdown(graph))})
        yield from label_graph_checks(stats)

    return [label_graph]
