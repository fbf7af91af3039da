"""Everything Dagster sees, assembled in one place from the study grid (``$INFOSIFT_GRID`` or the embedded default)."""

from __future__ import annotations

from dagster import Definitions, ExecutorDefinition, FilesystemIOManager

from assets.annotation import build_annotation_assets
from assets.evaluation import build_evaluation_assets
from assets.label_graph import build_label_graph_assets
from assets.pool import build_pool_assets
from assets.preference import build_preference_assets
from assets.reporting import build_reporting_assets
from assets.selection import build_selection_assets
from assets.training import build_training_assets
from dagster_project.constants import PARQUET_IO_MANAGER
from dagster_project.grid import GridSpec, load_grid
from dagster_project.jobs import build_jobs
from dagster_project.paths import state_dir
from dagster_project.ray_execution import grid_executor
from resources.annotators import EmbedderResource, ScorerResource, TaggerResource
from resources.judge import JudgeResource
from resources.llamafactory import LlamaFactoryTrainer
from resources.mlflow_tracker import MlflowTracker
from resources.opencompass import DEFAULT_SAMPLE_LIMITS, OpenCompassRunner, PreferenceEvaluator
from resources.parquet_io import ParquetIOManager
from resources.ray_cluster import RayCluster


def all_assets(grid: GridSpec) -> list:
    return [*build_pool_assets(grid), *build_annotation_assets(), *build_label_graph_assets(),
            *build_selection_assets(grid), *build_training_assets(grid), *build_evaluation_assets(grid),
            *build_preference_assets(grid), *build_reporting_assets(grid)]


def default_resources() -> dict:
    storage = state_dir() / "dagster_storage"
    return {
        "io_manager": FilesystemIOManager(base_dir=str(storage)),
        PARQUET_IO_MANAGER: ParquetIOManager(base_dir=str(storage / "parquet")),
        "embedder": EmbedderResource(),
        "tagger": TaggerResource(),
        "scorer": ScorerResource(),
        "mlflow_tracker": MlflowTracker(),
        "trainer": LlamaFactoryTrainer(),
        "evaluator": OpenCompassRunner(sample_limits=dict(DEFAULT_SAMPLE_LIMITS)),
        "ray_cluster": RayCluster(),
        "preference_evaluator": PreferenceEvaluator(),
        "judge": JudgeResource(),
    }


def build_definitions(grid: GridSpec | None = None, resources: dict | None = None,
                      executor: ExecutorDefinition | None = None) -> Definitions:
    """``executor`` defaults to dagster-ray's when ``$INFOSIFT_RAY_ADDRESS`` names a cluster, else Dagster's own."""
    grid = grid or load_grid()
    return Definitions(assets=all_assets(grid), jobs=build_jobs(grid),
                       resources={**default_resources(), **(resources or {})}, executor=executor or grid_executor())


defs = build_definitions()
