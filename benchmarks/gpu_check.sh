#!/usr/bin/env bash
# The GPU check: every GPU path of infosift timed once, one table on stdout, at most 10 minutes on one H100/H200.
#   bash benchmarks/gpu_check.sh            full sizes (see benchmarks/gpu_check.py)
#   bash benchmarks/gpu_check.sh --smoke    tiny sizes on any device: checks the wiring (CPU here)
#   bash benchmarks/gpu_check.sh --dry-run  the plan and an import check, no work
# Extra options pass through: --only mig,kcenter  --budget-s 570. A judge checkpoint: INFOSIFT_JUDGE_MODEL=/path.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
[ -x "$PYTHON" ] || PYTHON="$(command -v python3)"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export HF_HUB_OFFLINE="${HF_HUB_OFFLINE:-1}" TRANSFORMERS_OFFLINE="${TRANSFORMERS_OFFLINE:-1}"
export HF_DATASETS_OFFLINE="${HF_DATASETS_OFFLINE:-1}" TOKENIZERS_PARALLELISM=false
exec timeout 600 "$PYTHON" benchmarks/gpu_check.py "$@"
