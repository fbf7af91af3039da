"""The selection stage: one partition per (selector, budget); ordered ids plus the subset's diversity metrics."""

import json

import pandas as pd
from dagster import AssetExecutionContext, Config, Output, asset
from pydantic import Field

from dagster_project.constants import GROUP_SELECTION
from dagster_project.grid import GridSpec, parse_selection_key
from dagster_project.partitions import selection_partitions
from dagster_project.paths import state_dir
from selection_ops.foundation.atomic import write_text_atomic


class SelectionConfig(Config):
    params: dict[str, str] = Field(default_factory=dict, description="Selector parameters by name (as on the CLI); "
                                   "they override the grid's selector_params for this run")
    metrics: list[str] | None = Field(None, description="Diversity metrics to measure; None = every applicable one")


def applicable_metrics(subset_has: set[str]) -> list[str]:
    """Every registered metric whose needs the pool meets."""
    from selection_ops.registry import get_metric, metric_names

    return [m for m in metric_names() if set(get_metric(m).needs) <= subset_has]


def build_selection_assets(grid: GridSpec) -> list:
    partitions = selection_partitions(grid)

    @asset(group_name=GROUP_SELECTION, partitions_def=partitions)
    def selection(context: AssetExecutionContext, config: SelectionConfig, pool: pd.DataFrame,
                  annotations: pd.DataFrame, label_graph) -> Output[dict]:
        """``{"method", "budget", "seed", "params", "ids" (in selection order), "metrics"}``.

        ``run_selector`` already refuses a selection of the wrong size or with repeats (but for Duplicate)."""
        from selection_ops.annotated_pool import pool_view_from_tables
        from selection_ops.registry import measure, run_selector

        method, budget = parse_selection_key(context.partition_key)
        view = pool_view_from_tables(pool, annotations, label_graph)
        params = {**grid.selector_params.get(method, {}), **config.params}
        result = run_selector(method, view, budget, seed=grid.seed, params=params)
        subset = view.subset(result.indices)
        present = {name for name in ("labels", "score", "embeddings", "texts") if view.has(name)} | set(view.extra)
        metric_names = config.metrics or applicable_metrics(present)
        metrics = measure(subset, view, metric_names)
        out_dir = state_dir() / "selections"
        out_dir.mkdir(parents=True, exist_ok=True)
        ids_path = out_dir / f"{context.partition_key}.jsonl"
        write_text_atomic(ids_path, "".join(json.dumps({"id": i}) + "\n" for i in result.ids))
        record = {"method": method, "budget": budget, "seed": grid.seed, "params": result.params,
                  "ids": result.ids, "metrics": metrics, "ids_path": str(ids_path)}
        context.log.info(f"{context.partition_key}: {len(result.ids)} samples; metrics {metrics}")
        return Output(record, metadata={"selected": len(result.ids), "unique": len(set(result.ids)),
                                        "params": json.dumps(result.params), "ids_path": str(ids_path),
                                        **{f"metric/{k}": float(v) for k, v in metrics.items()}})

    return [selection]
