"""The report as GitHub Actions shows it (annotations, job summary, outputs), and the action's
inputs wired through to its script."""

from __future__ import annotations

import json
import re
from pathlib import Path

from conformance.report import github

REPO = Path(__file__).resolve().parents[2]
REPORT = {
    "suite": {"name": "agent-conformance", "version": "0"},
    "image": {"ref": "agent:1", "id": "sha256:x", "os": "linux", "architecture": "amd64"},
    "verdict": "fail", "duration_s": 1.0,
    "requirements": [
        {"id": "HEALTH-200", "level": "MUST", "title": "GET /health returns 200.", "status": "fail",
         "evidence": ["GET /health answered 204, not 200", "sent: curl -sS -i http://127.0.0.1:8080/health",
                      "100% sure: a, b"]},
        {"id": "HEALTH-JSON", "level": "MUST", "title": "/health answers JSON.", "status": "error",
         "evidence": ["not checked: no 200 answer (see HEALTH-200)"]},
        {"id": "READY-200", "level": "MUST", "title": "GET /ready returns 200.", "status": "pass", "evidence": []},
        {"id": "NO-CRITICAL-VULNS", "level": "MUST", "title": "No CRITICAL.", "status": "skip", "evidence": ["no"]},
    ],
}


def test_a_failed_requirement_is_an_error_annotation_and_an_unchecked_one_a_warning():
    lines = github.annotations(REPORT)
    assert len(lines) == 2
    assert lines[0].startswith("::error title=HEALTH-200 (MUST) fail::GET /health returns 200.%0AGET /health answered")
    assert "100%25 sure: a, b" in lines[0] and "\n" not in lines[0]  # GitHub's escapes: % and newlines in data
    assert lines[1].startswith("::warning title=HEALTH-JSON (MUST) error::")


def test_the_summary_and_the_outputs_go_where_github_says(tmp_path, monkeypatch, capsys):
    report = tmp_path / "report.json"
    report.write_text(json.dumps(REPORT))
    summary, outputs = tmp_path / "summary.md", tmp_path / "outputs"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    assert github.main([str(report), "r.md", "r.html"]) == 0
    assert capsys.readouterr().out.count("::") == 4
    assert "**Verdict: FAIL" in summary.read_text() and "### HEALTH-200 (MUST) — fail" in summary.read_text()
    assert outputs.read_text().splitlines() == ["verdict=fail", f"report-json={report}", "report-md=r.md",
                                                "report-html=r.html"]


def test_no_report_is_one_error_annotation(tmp_path, capsys):
    assert github.main([str(tmp_path / "missing.json")]) == 2
    assert capsys.readouterr().out.startswith("::error title=agent-conformance::no report to show")


def test_every_input_of_the_action_reaches_its_script():
    action = (REPO / "action.yml").read_text()
    script = (REPO / "scripts" / "github-action.sh").read_text()
    inputs = re.findall(r"^  ([a-z-]+):\n    description:", action.split("\noutputs:")[0], re.M)
    assert inputs == ["image", "agent-config", "vuln-report", "certify", "report-dir"]
    for name in inputs:
        variable = "INPUT_" + name.upper().replace("-", "_")
        assert f"{variable}: ${{{{ inputs.{name} }}}}" in action and variable in script
    for name in ("verdict", "report-json", "report-md"):
        assert f"steps.run.outputs.{name}" in action and name in github.outputs(REPORT, "", "")
