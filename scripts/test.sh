#!/usr/bin/env bash
# The README's test command: install pinned test needs into .venv, lint, type-check, start a
# real PostgreSQL on loopback (scripts/postgres.sh: the store's tests run on it and on SQLite,
# and never skip it here), test.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install --quiet -c constraints.txt -e '.[test]'
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
. scripts/postgres.sh
. scripts/chromium.sh
.venv/bin/pytest -q
