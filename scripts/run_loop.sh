#!/usr/bin/env bash
# The main job: set up .venv/ if needed, then run the whole loop on the embedded default (or --grid GRID.yaml).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
exec .venv/bin/python -m dagster_project.run_loop "$@"
