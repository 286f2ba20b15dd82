#!/usr/bin/env bash
# The README's first command: install everything into .venv, then run the main job.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh .venv
exec .venv/bin/tooltune quickstart "$@"
