#!/usr/bin/env bash
# Set up, build the bundled reference agent, run the conformance suite on it and print the verdict.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh reference  # the reference agent and its base only: the samples build for the tests
mkdir -p reports
exec .venv/bin/agent-conformance agent-conformance/sample-reference:latest \
  --report-json reports/reference.json --report-md reports/reference.md "$@"
