#!/usr/bin/env bash
# Create (or reuse) a virtual environment and install tooltune into it with its test tools.
# Usage: scripts/install.sh [VENV_DIR]   (default .venv)
# The README's first command, .ci/run and every later stage install through this one script, so a
# step that only exists on someone's machine cannot hide.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${1:-.venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --upgrade pip
# When a dependency needs torch, install `torch==2.13.0` here FIRST: a looser requirement in a
# fresh environment pulls gigabytes of CUDA wheels instead of the local CPU build.
"$venv/bin/python" -m pip install -q -e ".[dev]"
