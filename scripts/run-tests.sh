#!/usr/bin/env bash
# Set up, then run the project's own tests (unit + the sample-agent matrix against real containers).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec .venv/bin/python -m pytest -n 2 tests "$@"
