#!/usr/bin/env bash
# Regenerates requirements.lock: every package scripts/setup.sh installs, pinned exactly, resolved by uv from
# pyproject.toml (with the test extra) and constraints.txt, for CPython 3.11 on x86_64 Linux.
#
#   bash scripts/lock.sh                            keep every pin that still fits (uv prefers the lock's versions)
#   bash scripts/lock.sh --upgrade-package dagster  move one package (and what it needs) to its newest fitting release
#   bash scripts/lock.sh --upgrade                  move everything
#
# then `bash scripts/setup.sh` (the lock is part of its stamp, so the venv is reinstalled) and the tests, at least
# tests/test_lock.py and tests/dagster_project/test_dagster_internals.py. Commit the lock with the change.
#
# torch is the CPU build pip takes from local disk ($PIP_FIND_LINKS, /opt/wheels here): uv does not read pip's
# configuration, so it is pointed there, or it would resolve PyPI's CUDA torch and lock its nvidia-* packages.
# torchvision is left out of the lock: llamafactory asks for it, but its PyPI build does not load beside CPU torch
# and setup.sh never installs it.
set -euo pipefail
cd "$(dirname "$0")/.."
# uv: the venv's (setup.sh installs the version constraints.txt pins), else one on PATH, else that version in a
# throwaway venv.
uv=.venv/bin/uv
[ -x "$uv" ] || uv=$(command -v uv || true)
if [ -z "$uv" ]; then
  version=$(sed -n 's/^uv==\([^ ]*\).*/\1/p' constraints.txt)
  tools="${TMPDIR:-/tmp}/infosift-uv-$version"
  [ -x "$tools/bin/uv" ] || { python3 -m venv "$tools" && "$tools/bin/python" -m pip install -q "uv==$version"; }
  uv="$tools/bin/uv"
fi
wheels=${PIP_FIND_LINKS:-/opt/wheels}
"$uv" pip compile pyproject.toml --extra test -c constraints.txt --find-links "$wheels" \
  --python-version 3.11 --python-platform x86_64-manylinux_2_28 --no-emit-package torchvision \
  --custom-compile-command "bash scripts/lock.sh" -o requirements.lock "$@"
grep -q '^torch==[0-9.]*+cpu$' requirements.lock \
  || { echo "requirements.lock: torch is not the local CPU build (no CPU wheel in $wheels?)" >&2; exit 1; }
! grep -q '^nvidia-' requirements.lock || { echo "requirements.lock: CUDA packages were locked" >&2; exit 1; }
