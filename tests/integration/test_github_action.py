"""The GitHub Action's step (scripts/github-action.sh, as action.yml runs it) on real containers,
with GitHub's files simulated: the exit status is the verdict's, the job summary holds the Markdown
report, each failing requirement is an annotation, the outputs are set."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import REPO

BIN = Path(sys.executable).parent


def run_action(image: str, tmp_path: Path) -> tuple[subprocess.CompletedProcess, str, str]:
    summary, outputs = tmp_path / "summary.md", tmp_path / "outputs"
    env = {**os.environ, "INPUT_IMAGE": image, "INPUT_REPORT_DIR": str(tmp_path / "reports"),
           "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(outputs),
           "AGENT_CONFORMANCE": str(BIN / "agent-conformance"), "PYTHON": sys.executable}
    done = subprocess.run(["bash", str(REPO / "scripts" / "github-action.sh")], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    return done, summary.read_text() if summary.exists() else "", outputs.read_text() if outputs.exists() else ""


def test_a_conformant_image_passes_the_step(built_samples, tmp_path):
    done, summary, outputs = run_action(built_samples["reference"].tag, tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "**Verdict: PASS" in summary and "::error" not in done.stdout
    assert f"verdict=pass\nreport-json={tmp_path / 'reports' / 'report.json'}\n" in outputs
    assert f"report-html={tmp_path / 'reports' / 'report.html'}\n" in outputs
    assert (tmp_path / "reports" / "report.html").read_text().startswith("<!doctype html>")


def test_a_broken_image_fails_the_step_with_an_annotation(built_samples, tmp_path):
    done, summary, outputs = run_action(built_samples["broken/health-204"].tag, tmp_path)
    assert done.returncode == 1
    assert "::error title=HEALTH-200 (MUST) fail::GET /health returns 200." in done.stdout
    assert "### HEALTH-200 (MUST) — fail" in summary and "verdict=fail" in outputs
