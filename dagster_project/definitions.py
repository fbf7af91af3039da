"""Everything Dagster sees, assembled in one place from the study grid (``$INFOSIFT_GRID`` or the embedded default).

The resources come from one of the per-environment sets below, chosen by ``$INFOSIFT_ENV``: ``default`` (the
embedded default's settings) or ``small`` (the smallest end-to-end settings: two training steps, two questions per
benchmark: a standard error needs two). Tests pass their own resources on top
(``build_definitions(resources=...)``).
"""

from __future__ import annotations

import os
from collections.abc import Callable

from dagster import Definitions, ExecutorDefinition, FilesystemIOManager, in_process_executor

from assets.annotation import build_annotation_assets
from assets.evaluation import build_evaluation_assets
from assets.label_graph import build_label_graph_assets
from assets.pool import build_pool_assets
from assets.pool_row import build_pool_row_assets
from assets.preference import build_preference_assets
from assets.reporting import build_reporting_assets
from assets.selection import build_selection_assets
from assets.training import build_training_assets
from dagster_project.constants import ENV_VAR, PARQUET_IO_MANAGER
from dagster_project.grid import GridSpec, load_grid
from dagster_project.jobs import build_jobs
from dagster_project.ray_execution import grid_executor
from resources.annotators import EmbedderResource, ScorerResource, TaggerResource
from resources.judge import JudgeResource
from resources.llamafactory import LlamaFactoryTrainer
from resources.mlflow_tracker import MlflowTracker
from resources.opencompass import (
    DEFAULT_SAMPLE_LIMITS,
    EMBEDDED_PREFERENCE_LIMITS,
    EMBEDDED_PREFERENCE_MAX_OUT_LEN,
    OpenCompassRunner,
    PreferenceEvaluator,
)
from resources.parquet_io import ParquetIOManager
from resources.ray_cluster import RayCluster
from resources.study_layout import StudyLayout

# Builders of the assets that exist once per base model.
PER_MODEL_BUILDERS: list[Callable[[GridSpec, str], list]] = [build_training_assets, build_evaluation_assets,
                                                             build_preference_assets, build_pool_row_assets]


def _default_models() -> dict:
    return {"trainer": LlamaFactoryTrainer(),
            "evaluator": OpenCompassRunner(sample_limits=dict(DEFAULT_SAMPLE_LIMITS)),
            "preference_evaluator": PreferenceEvaluator(sample_limits=dict(EMBEDDED_PREFERENCE_LIMITS),
                                                        max_out_len=EMBEDDED_PREFERENCE_MAX_OUT_LEN)}


def _small_models() -> dict:
    return {"trainer": LlamaFactoryTrainer(overrides='{"max_steps": 2}'),
            "evaluator": OpenCompassRunner(sample_limit=2, sample_limits={}),
            "preference_evaluator": PreferenceEvaluator(sample_limit=2)}


def _power_models() -> dict:
    """A pilot study's evaluation (benchmarks/RESULTS_power.md): the default's generative ARC-C (30 questions),
    twice its references on the likelihood channel (24 whole AlpacaEval answers), ARC-C in cloze form on 60
    questions; the default's preference half."""
    return {"trainer": LlamaFactoryTrainer(),
            "evaluator": OpenCompassRunner(datasets=["arc_c", "ref_bpb_alpaca", "arc_c_cloze"],
                                           sample_limits={"arc_c": 30, "ref_bpb_alpaca": 24, "arc_c_cloze": 60}),
            "preference_evaluator": PreferenceEvaluator(sample_limits=dict(EMBEDDED_PREFERENCE_LIMITS),
                                                        max_out_len=EMBEDDED_PREFERENCE_MAX_OUT_LEN)}


RESOURCE_SETS: dict[str, Callable[[], dict]] = {"default": _default_models, "small": _small_models,
                                                "power": _power_models}


def environment() -> str:
    env = os.environ.get(ENV_VAR, "default")
    if env not in RESOURCE_SETS:
        raise ValueError(f"{ENV_VAR}={env!r}: expected one of {sorted(RESOURCE_SETS)}")
    return env


def study_resources(grid: GridSpec, env: str | None = None, home: str | None = None) -> dict:
    """Every resource of the study for environment ``env``: its layout, IO managers under the layout, annotators,
    MLflow, the judge, and the environment's trainer and evaluators."""
    layout = StudyLayout(study=grid.study, **({"home": home} if home else {}))
    return {
        "layout": layout,
        "io_manager": FilesystemIOManager(base_dir=str(layout.values_dir())),
        PARQUET_IO_MANAGER: ParquetIOManager(base_dir=str(layout.parquet_dir())),
        "embedder": EmbedderResource(),
        "tagger": TaggerResource(),
        "scorer": ScorerResource(),
        "mlflow_tracker": MlflowTracker(),
        "ray_cluster": RayCluster(),
        "judge": JudgeResource(),
        **RESOURCE_SETS[env or environment()](),
    }


def all_assets(grid: GridSpec, resources: dict | None = None) -> list:
    annotators = {name: resources[name].model_dump() for name in ("embedder", "tagger", "scorer")
                  if resources and name in resources}
    per_model = [a for model in grid.base_models for build in PER_MODEL_BUILDERS for a in build(grid, model)]
    return [*build_pool_assets(grid), *build_annotation_assets(annotators), *build_label_graph_assets(),
            *build_selection_assets(grid), *per_model, *build_reporting_assets(grid)]


def build_definitions(grid: GridSpec | None = None, resources: dict | None = None, env: str | None = None,
                      home: str | None = None, executor: ExecutorDefinition | None = None) -> Definitions:
    """``executor`` defaults to dagster-ray's when ``$INFOSIFT_RAY_ADDRESS`` names a cluster, else in-process."""
    grid = grid or load_grid()
    merged = {**study_resources(grid, env, home), **(resources or {})}
    # In-process steps: a partition's steps run one after another anyway (selection -> training -> evaluation), and
    # a process per step would import torch again each time; parallelism comes from concurrent runs (a backfill),
    # which the accelerator pool limits.
    return Definitions(assets=all_assets(grid, merged), jobs=build_jobs(grid), resources=merged,
                       executor=executor or grid_executor() or in_process_executor,
                       metadata={"study": grid.study, "grid_file": str(grid.source_path),
                                 "variants": len(grid.variants), "budgets": str(list(grid.budgets)),
                                 "base_models": str(list(grid.base_models)),
                                 "left_out": "; ".join(grid.left_out) or "none", "pool_row": grid.pool_row,
                                 "environment": env or environment()})


defs = build_definitions()
