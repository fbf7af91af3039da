"""Every environment variable infosift reads, in one table: its name, what it means, its default, and who reads it.

The table is the reference (``docs/environment.md`` is generated from it: ``python -m
selection_ops.foundation.environment docs/environment.md``). ``tests/selection_ops/foundation/test_environment.py``
scans every module and script of the repository for ``INFOSIFT_*`` names and fails on one missing here, on an entry
read nowhere, and on a stale ``docs/environment.md``. A module may import a name's constant from here instead of
spelling it; the ones that spell it are covered by that scan all the same.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from selection_ops.foundation.atomic import write_text_atomic


@dataclass(frozen=True)
class EnvironmentVariable:
    """One variable. ``readers``: repository paths of the files that read it (or, for a variable another program
    reads, that set it or pass it on)."""

    name: str
    meaning: str
    default: str
    readers: tuple[str, ...]


INFOSIFT_HOME = "INFOSIFT_HOME"
INFOSIFT_DATA_DIR = "INFOSIFT_DATA_DIR"
INFOSIFT_GRID = "INFOSIFT_GRID"
INFOSIFT_ENV = "INFOSIFT_ENV"
INFOSIFT_ACCELERATOR_SLOTS = "INFOSIFT_ACCELERATOR_SLOTS"
INFOSIFT_RAY_ADDRESS = "INFOSIFT_RAY_ADDRESS"
INFOSIFT_RAY_JOBS_ADDRESS = "INFOSIFT_RAY_JOBS_ADDRESS"
INFOSIFT_RAY_FORWARD_ENV = "INFOSIFT_RAY_FORWARD_ENV"
INFOSIFT_CELL_RESOURCES = "INFOSIFT_CELL_RESOURCES"
INFOSIFT_JUDGE_URL = "INFOSIFT_JUDGE_URL"
INFOSIFT_JUDGE_API_KEY = "INFOSIFT_JUDGE_API_KEY"
INFOSIFT_JUDGE_MODEL = "INFOSIFT_JUDGE_MODEL"
INFOSIFT_GPU_CHECK_CACHE = "INFOSIFT_GPU_CHECK_CACHE"
INFOSIFT_DAGSTER_URL = "INFOSIFT_DAGSTER_URL"
INFOSIFT_MLFLOW_URL = "INFOSIFT_MLFLOW_URL"
MLFLOW_TRACKING_URI = "MLFLOW_TRACKING_URI"
DAGSTER_HOME = "DAGSTER_HOME"
OPENAI_API_KEY = "OPENAI_API_KEY"
HF_HUB_OFFLINE = "HF_HUB_OFFLINE"
TRANSFORMERS_OFFLINE = "TRANSFORMERS_OFFLINE"
HF_DATASETS_OFFLINE = "HF_DATASETS_OFFLINE"

VARIABLES: tuple[EnvironmentVariable, ...] = (
    EnvironmentVariable(
        INFOSIFT_HOME, "The state folder: the studies' Dagster instances, the MLflow store, asset files, fine-tuned "
        "models and evaluation outputs.", "`<repo>/.infosift`", ("selection_ops/foundation/paths.py",)),
    EnvironmentVariable(
        INFOSIFT_DATA_DIR, "The data folder: the real pools (`pools/`) and the benchmarks' data (may be absent).",
        "`<repo>/../shared/data`",
        ("selection_ops/foundation/paths.py", "scripts/setup.sh")),
    EnvironmentVariable(
        INFOSIFT_GRID, "The study grid (YAML) the Dagster definitions - UI, jobs, backfills - are built from; "
        "`scripts/run_loop.sh --grid G` sets it for its run.",
        "`dagster_project/grids/embedded_default.yaml`", ("selection_ops/study/grid.py",)),
    EnvironmentVariable(
        INFOSIFT_ENV, "A named resource profile laid over the study's settings (`small`: the smallest end-to-end "
        "settings, as the tests and CI use).", "unset: the study's own settings", ("dagster_project/definitions.py",)),
    EnvironmentVariable(
        INFOSIFT_ACCELERATOR_SLOTS, "How many training/evaluation steps may hold the accelerator at once: the "
        "limit of the Dagster concurrency pool written to the study's `dagster.yaml`.",
        "the number of CUDA devices, else 1", ("dagster_project/instance.py",)),
    EnvironmentVariable(
        INFOSIFT_RAY_ADDRESS, "A Ray cluster for annotation shards and grid cells: `auto` (this machine joined with "
        "`ray start`) or `ray://head:10001`.", "unset: everything runs in this process, Ray is not imported",
        ("resources/ray_cluster.py",)),
    EnvironmentVariable(
        INFOSIFT_RAY_JOBS_ADDRESS, "The Ray Jobs API (the dashboard's HTTP address) that grid cells are submitted to "
        "as Ray jobs.", "derived from the Ray address (dashboard port 8265)",
        ("resources/ray_cluster.py", "dagster_project/ray_execution.py")),
    EnvironmentVariable(
        INFOSIFT_RAY_FORWARD_ENV, "Comma-separated names of further variables to pass to each step that runs as a "
        "Ray job, beside the built-in list (`dagster_project/ray_execution.py: FORWARDED_ENV`).", "none",
        ("dagster_project/ray_execution.py",)),
    EnvironmentVariable(
        INFOSIFT_CELL_RESOURCES, "A JSON object overriding what one grid cell reserves on Ray, per kind (`selection`, "
        "`fine_tune`, `evaluation`, `judge`), e.g. `{\"fine_tune\": {\"num_gpus\": 8}}`.",
        "`resources/ray_cluster.py: DEFAULT_CELL_RESOURCES` (1 GPU per fine-tune and per evaluation, judge 0)",
        ("resources/ray_cluster.py",)),
    EnvironmentVariable(
        INFOSIFT_JUDGE_URL, "The OpenAI-compatible endpoint of a served judge (e.g. `http://judge-node:23333/v1`) "
        "when the judge's settings name none.", "none (a judge endpoint must then be set in the judge's settings)",
        ("selection_ops/evaluation/judge.py",)),
    EnvironmentVariable(
        INFOSIFT_JUDGE_API_KEY, "The served judge's API key; read only from the environment, never from a grid file, "
        "and never logged.", "`$OPENAI_API_KEY`, else none", ("selection_ops/evaluation/judge.py",)),
    EnvironmentVariable(
        INFOSIFT_JUDGE_MODEL, "The GPU check's judge checkpoint: a local folder (e.g. CompassJudger-1).",
        "the bundled SmolLM2-135M as a stand-in", ("benchmarks/gpu_check.py",)),
    EnvironmentVariable(
        INFOSIFT_GPU_CHECK_CACHE, "A folder where the GPU check keeps the converted bundled model between runs.",
        "a temporary folder, removed after the check", ("benchmarks/gpu_check.py",)),
    EnvironmentVariable(
        INFOSIFT_DAGSTER_URL, "The Dagster UI's base URL: the links from each MLflow run's description to its "
        "Dagster asset and run, and the host and port of the `dagster dev` command the main job prints.",
        "`http://127.0.0.1:3000` (`dagster dev`'s default)", ("selection_ops/foundation/paths.py",)),
    EnvironmentVariable(
        INFOSIFT_MLFLOW_URL, "The MLflow UI's base URL: the links from Dagster's assets to their MLflow runs, and "
        "the host and port of the `mlflow ui` command the main job prints.",
        "`http://127.0.0.1:5000` (`mlflow ui`'s default)", ("selection_ops/foundation/paths.py",)),
    EnvironmentVariable(
        MLFLOW_TRACKING_URI, "The MLflow tracking store (read by MLflow too).", "`sqlite:///$INFOSIFT_HOME/mlflow.db`",
        ("selection_ops/foundation/paths.py",)),
    EnvironmentVariable(
        DAGSTER_HOME, "The Dagster instance folder, read by Dagster; the main job sets it to the study's own "
        "(`<state>/studies/<study>/dagster`) and prints it for `dagster dev`.",
        "set by the main job; for `dagster dev`, as it prints", ("dagster_project/run_loop.py",)),
    EnvironmentVariable(
        OPENAI_API_KEY, "The key of an OpenAI-compatible endpoint: the judge's when `INFOSIFT_JUDGE_API_KEY` is "
        "unset, and the LLM tagger's (its `api_key_env` setting names the variable).", "none",
        ("selection_ops/evaluation/judge.py", "selection_ops/annotation/llm_tagger.py")),
    EnvironmentVariable(
        HF_HUB_OFFLINE, "`1`: no Hugging Face Hub access. The label graph's encoder check honours it; LLaMA-Factory "
        "and OpenCompass subprocesses get `1` unless it is set.", "unset here; `1` in the subprocesses",
        ("selection_ops/mig/label_graph.py", "resources/llamafactory.py", "resources/opencompass.py")),
    EnvironmentVariable(
        TRANSFORMERS_OFFLINE, "As `HF_HUB_OFFLINE`, for transformers.", "unset here; `1` in the subprocesses",
        ("selection_ops/mig/label_graph.py", "resources/llamafactory.py", "resources/opencompass.py")),
    EnvironmentVariable(
        HF_DATASETS_OFFLINE, "`1`: datasets reads no Hub; LLaMA-Factory and OpenCompass subprocesses get `1` unless "
        "it is set.", "`1` in the subprocesses", ("resources/llamafactory.py", "resources/opencompass.py")),
)
BY_NAME = {variable.name: variable for variable in VARIABLES}


def markdown_table() -> str:
    """``docs/environment.md``: the table above, one row per variable."""
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = ["# Environment variables", "",
             "Every variable infosift reads, generated from `selection_ops/foundation/environment.py` (the one table;",
             "regenerate with `python -m selection_ops.foundation.environment docs/environment.md`).", "",
             "| variable | meaning | default | read by |", "|---|---|---|---|"]
    lines += [f"| `{v.name}` | {cell(v.meaning)} | {cell(v.default)} | "
              f"{', '.join(f'`{reader}`' for reader in v.readers)} |" for v in VARIABLES]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    """Print the table, or write it to the file named by the one argument."""
    if argv:
        write_text_atomic(argv[0], markdown_table())
    else:
        sys.stdout.write(markdown_table())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
