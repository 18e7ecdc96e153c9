#!/usr/bin/env bash
# The GitHub Action's step (action.yml): run the suite on INPUT_IMAGE, then show the report in the
# job summary and as annotations, and set the outputs. Exits with the suite's status (0 pass,
# 1 fail, 2 usage or infrastructure error), so the step fails as the verdict says.
set -uo pipefail
: "${INPUT_IMAGE:?the image input is required}"
dir=${INPUT_REPORT_DIR:-agent-conformance-report}
mkdir -p "$dir"
args=("$INPUT_IMAGE" --report-json "$dir/report.json" --report-md "$dir/report.md" --report-html "$dir/report.html")
[ -n "${INPUT_AGENT_CONFIG:-}" ] && args+=(--agent-config "$INPUT_AGENT_CONFIG")
[ -n "${INPUT_VULN_REPORT:-}" ] && args+=(--vuln-report "$INPUT_VULN_REPORT")
[ -n "${INPUT_CERTIFY:-}" ] && args+=(--certify "$INPUT_CERTIFY")
"${AGENT_CONFORMANCE:-agent-conformance}" "${args[@]}"
status=$?
"${PYTHON:-python3}" -m conformance.report.github "$dir/report.json" "$dir/report.md" "$dir/report.html"
exit "$status"
