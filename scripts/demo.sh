#!/usr/bin/env bash
# The README's first command: install pinned runtime needs into .venv and run the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install --quiet -c constraints.txt -e .
.venv/bin/amanah demo "$@"
