"""The selection stage: the grid's matrix (variant x budget) of selections, each measured and recorded in MLflow.

``selection_spec`` is an observable source: per partition, the data version is a hash of what defines it (selector,
parameters, budget, seed), observed from the grid file. Changing one variant's parameter changes only that
variant's versions, so Dagster marks exactly its selections stale; the selection's own data version is the hash of
the ids it picked, so an identical re-selection leaves training and evaluation up to date.
"""

import json
from collections import Counter

import numpy as np
import pandas as pd
from dagster import (
    AssetExecutionContext,
    Config,
    DataVersion,
    DataVersionsByPartition,
    MetadataValue,
    Output,
    asset,
    observable_source_asset,
)
from pydantic import Field

from assets.checks import SELECTION_CHECKS, selection_checks, specs
from assets.constants import GROUP_SELECTION
from assets.locations import location_metadata
from assets.partitions import grid_partitions, selection_of
from assets.values import Selection, SelectionSpec
from assets.versioning import ids_digest, json_digest, version
from resources.mlflow_tracker import (
    DAGSTER_PARTITION_TAG,
    DAGSTER_RUN_TAG,
    DIVERSITY_PREFIX,
    KIND_SELECTION,
    SEED,
    MlflowTracker,
)
from resources.ray_cluster import cell_op_tags
from resources.study_layout import StudyLayout
from selection_ops.foundation.atomic import write_text_atomic
from selection_ops.study.cells import SelectionRef
from selection_ops.study.grid import GridSpec

SELECTION_CODE_VERSION = "2"


class SelectionConfig(Config):
    params: dict[str, str] = Field(default_factory=dict, description="Selector parameters by name (as on the CLI); "
                                   "they override the variant's parameters for this run")
    metrics: list[str] | None = Field(None, description="Diversity metrics to measure; None = every applicable one")


def applicable_metrics(subset_has: set[str]) -> list[str]:
    """Every registered metric whose needs the pool meets."""
    from selection_ops.registry import get_metric, metric_names

    return [m for m in metric_names() if set(get_metric(m).needs) <= subset_has]


def spec_for(grid: GridSpec, selection: str) -> SelectionSpec:
    """What defines ``selection``; its seed (the budget key's, else the grid's own) is the selector's ``seed``, so
    selectors that draw at random pick differently per seed and deterministic ones pick the same ids."""
    variant_name, budget, key_seed = SelectionRef.parse(selection)
    variant = grid.variant(variant_name)
    return SelectionSpec(variant=variant.name, selector=variant.selector, params=variant.param_dict, budget=budget,
                         seed=grid.seed_of(key_seed))


def preview(selected: pd.DataFrame, pool_scores: pd.Series) -> str:
    """Markdown: source mix, top labels, score distribution against the pool's, and a few example instructions."""
    sources = selected["source"].value_counts()
    labels = Counter(label for labels in selected["labels"] for label in labels).most_common(8)
    quantiles = [0.0, 0.25, 0.5, 0.75, 1.0]
    picked_q = selected["score"].quantile(quantiles).to_numpy()
    pool_q = pool_scores.quantile(quantiles).to_numpy()
    lines = ["**Source mix**: " + ", ".join(f"{s} {n} ({n / len(selected):.0%})" for s, n in sources.items()),
             "", "**Top labels**: " + (", ".join(f"{label} ({n})" for label, n in labels) or "none"), "",
             "| score | min | q25 | median | q75 | max |", "|---|---|---|---|---|---|",
             "| selected | " + " | ".join(f"{v:.3f}" for v in picked_q) + " |",
             "| pool | " + " | ".join(f"{v:.3f}" for v in pool_q) + " |", "", "**Examples**:"]
    for conversation in selected["conversation"].head(3):
        first_user = next((t["content"] for t in conversation if t["role"] == "user"), "")
        lines.append("- " + " ".join(first_user.split())[:160].replace("|", "\\|"))
    return "\n".join(lines)


def build_selection_assets(grid: GridSpec) -> list:
    partitions = grid_partitions(grid)

    @observable_source_asset(group_name=GROUP_SELECTION, partitions_def=partitions,
                             description=f"What defines each selection (selector, parameters, budget, seed), from "
                                         f"the grid file {grid.source_path}. Observe it after editing the grid.")
    def selection_spec() -> DataVersionsByPartition:
        return DataVersionsByPartition({
            key: DataVersion(json_digest(spec_for(grid, selection_of(key)).__dict__))
            for key in partitions.get_partition_keys()})

    @asset(group_name=GROUP_SELECTION, partitions_def=partitions, code_version=SELECTION_CODE_VERSION,
           deps=[selection_spec], check_specs=specs("selection", SELECTION_CHECKS, blocking=True),
           op_tags=cell_op_tags("selection"))
    def selection(context: AssetExecutionContext, config: SelectionConfig, layout: StudyLayout,
                  mlflow_tracker: MlflowTracker, pool: pd.DataFrame, annotations: pd.DataFrame, label_graph):
        """The ids a variant picks at a budget (in selection order), with every applicable diversity metric; one
        MLflow run (child of the study run) with the parameters, metrics and the selection as a dataset input."""
        from selection_ops.annotated_pool import pool_view_from_tables
        from selection_ops.registry import get_selector, measure, metric_details, run_selector

        key = selection_of(context.partition_key)
        spec = spec_for(grid, key)
        view = pool_view_from_tables(pool, annotations, label_graph)
        params = {**spec.params, **config.params}
        result = run_selector(spec.selector, view, spec.budget, seed=spec.seed, params=params)
        subset = view.subset(result.indices)
        present = {name for name in ("labels", "score", "embeddings", "texts") if view.has(name)} | set(view.extra)
        measured = measure(subset, view, config.metrics or applicable_metrics(present))
        metrics, details = {k: float(v) for k, v in measured.items()}, metric_details(measured)
        ids = tuple(result.ids)
        digest = ids_digest(ids)
        ids_path = write_text_atomic(layout.selection_ids(key, digest),
                                     "".join(json.dumps({"id": i}) + "\n" for i in ids))
        selected = pool.set_index("id").loc[list(ids)].reset_index().merge(
            annotations[["id", "labels", "score"]], on="id", how="left")

        study_run = mlflow_tracker.study_run(grid.study, tags={"grid": str(grid.source_path)},
                                               grid_file=str(grid.source_path))
        run_id = mlflow_tracker.run_for(
            study=grid.study, partition=key, kind=KIND_SELECTION, parent_run_id=study_run,
            version=json_digest({"spec": spec.__dict__, "ids": digest}),
            tags={DAGSTER_RUN_TAG: context.run.run_id, DAGSTER_PARTITION_TAG: key, "selector": spec.selector,
                  "variant": spec.variant, "budget": str(spec.budget), SEED: str(spec.seed)},
            grid_file=str(grid.source_path), asset=context.asset_key.to_user_string())
        with mlflow_tracker.writing(run_id):
            mlflow_tracker.log(run_id, params={"selector": spec.selector, "variant": spec.variant,
                                               "budget": spec.budget, SEED: spec.seed,
                                               **{f"selector.{k}": v for k, v in result.params.items()}},
                               metrics={f"{DIVERSITY_PREFIX}{k}": v for k, v in metrics.items()},
                               artifacts={"selection": ids_path})
            mlflow_tracker.log_selection_input(
                run_id, frame=selected[["id", "source", "score"]], name=key, digest=digest,
                source=str(layout.pool_table()))
        url = mlflow_tracker.run_url(grid.study, run_id)
        value = Selection(key=key, variant=spec.variant, selector=spec.selector, budget=spec.budget, seed=spec.seed,
                          params=dict(result.params), ids=ids, ids_digest=digest, metrics=dict(metrics),
                          ids_path=str(ids_path), mlflow_run_id=run_id)
        context.log.info(f"{key}: {len(ids)} samples; metrics {metrics}")
        scores = selected["score"].to_numpy(dtype=float)
        yield Output(value, data_version=version(digest), metadata={
            **location_metadata(ids_path), "selected": len(ids), "unique": len(set(ids)), "ids_digest": digest,
            "params": json.dumps(result.params, default=str),
            "mlflow_run": MetadataValue.url(url), "preview": MetadataValue.md(preview(selected, annotations["score"])),
            "score_mean": float(np.nanmean(scores)) if len(scores) else float("nan"),
            **{f"metric/{k}": float(v) for k, v in metrics.items()},
            **{f"metric_details/{k}": json.dumps(v) for k, v in details.items()}})
        yield from selection_checks(ids, pool["id"], spec.budget,
                                    allows_repeats=get_selector(spec.selector).allows_repeats, partition=key)

    return [selection_spec, selection]
