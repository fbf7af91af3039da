"""Everything Dagster sees, assembled in one place from the study grid (``$INFOSIFT_GRID`` or the embedded default).

The resources come from the grid's sections over its profile (``dagster_project.study``; profiles in
``dagster_project/profiles/``), with the profile named by ``$INFOSIFT_ENV`` laid over them when set (``small``: the
smallest end-to-end settings: two training steps, two questions per benchmark: a standard error needs two). Tests
pass their own resources on top (``build_definitions(resources=...)``).
"""

from __future__ import annotations

from collections.abc import Callable

from dagster import Definitions, ExecutorDefinition, RetryPolicy, in_process_executor

from assets.annotation import build_annotation_assets
from assets.constants import PARQUET_IO_MANAGER
from assets.evaluation import build_evaluation_assets
from assets.label_graph import build_label_graph_assets
from assets.pool import build_pool_assets
from assets.pool_row import build_pool_row_assets
from assets.preference import build_preference_assets
from assets.reporting import build_reporting_assets
from assets.selection import build_selection_assets
from assets.training import build_training_assets
from dagster_project.jobs import build_jobs, build_sensors
from dagster_project.ray_execution import grid_executor, ray_executor_for
from dagster_project.study import Study, resolve
from resources.mlflow_tracker import MlflowTracker
from resources.parquet_io import ParquetIOManager
from resources.study_layout import StudyLayout
from resources.value_io import ValueIOManager
from selection_ops.study.grid import GridSpec, load_grid

# Builders of the assets that exist once per base model.
PER_MODEL_BUILDERS: list[Callable[[GridSpec, str], list]] = [build_training_assets, build_evaluation_assets,
                                                             build_preference_assets, build_pool_row_assets]


def study_resources(grid: GridSpec, env: str | None = None, home: str | None = None,
                    study: Study | None = None) -> dict:
    """Every resource of the study: its layout, IO managers under the layout, and the resources its grid's sections
    resolve to over its profile (``dagster_project.study``), with the ``env`` profile laid over them."""
    study = study or resolve(grid, env)
    layout = StudyLayout(study=grid.study, **({"home": home} if home else {}))
    return {
        "layout": layout,
        "io_manager": ValueIOManager(base_dir=str(layout.values_dir())),
        PARQUET_IO_MANAGER: ParquetIOManager(base_dir=str(layout.parquet_dir())),
        "mlflow_tracker": MlflowTracker(),
        **study.resources,
    }


def all_assets(grid: GridSpec, resources: dict | None = None) -> list:
    annotators = {name: resources[name].model_dump() for name in ("embedder", "tagger", "scorer")
                  if resources and name in resources}
    per_model = [a for model in grid.base_models for build in PER_MODEL_BUILDERS for a in build(grid, model)]
    label_graph = resources["label_graph_settings"].model_dump() if resources and "label_graph_settings" in resources \
        else None
    return [*build_pool_assets(grid), *build_annotation_assets(annotators), *build_label_graph_assets(label_graph),
            *build_selection_assets(grid), *per_model, *build_reporting_assets(grid)]


def build_definitions(grid: GridSpec | None = None, resources: dict | None = None, env: str | None = None,
                      home: str | None = None, executor: ExecutorDefinition | None = None) -> Definitions:
    """``executor`` defaults to dagster-ray's when the grid's ``execution`` (or ``$INFOSIFT_RAY_ADDRESS``) names a
    cluster, else in-process."""
    grid = grid or load_grid()
    study = resolve(grid, env)
    merged = {**study_resources(grid, env, home, study), **(resources or {})}
    if executor is None and study.execution.executor == "ray":
        executor = ray_executor_for(merged["ray_cluster"])
    # In-process steps: a partition's steps run one after another anyway (selection -> training -> evaluation), and
    # a process per step would import torch again each time; parallelism comes from concurrent runs (a backfill),
    # which the accelerator pool limits.
    from dagster_project.plan import build_plan_asset

    chosen = executor or grid_executor() or in_process_executor
    # on Ray a lost node fails a step; a retry reruns it on a live node (docs/scale.md, "When a node is lost")
    retry = RetryPolicy(max_retries=merged["ray_cluster"].max_task_retries) if "ray" in chosen.name else None
    return Definitions(assets=[*all_assets(grid, merged), build_plan_asset(study)], jobs=build_jobs(grid, retry),
                       sensors=build_sensors(grid), resources=merged, executor=chosen,
                       metadata={"study": grid.study, "grid_file": str(grid.source_path),
                                 "variants": len(grid.variants), "budgets": str(list(grid.budgets)),
                                 "base_models": str(list(grid.base_models)),
                                 "left_out": "; ".join(grid.left_out) or "none", "pool_row": grid.pool_row,
                                 "profile": study.profile, "environment": study.overlay or "none"})


defs = build_definitions()
