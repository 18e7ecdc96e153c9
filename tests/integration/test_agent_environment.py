"""The agent's own environment on real containers: an agent that needs a model key fails
ENDPOINT-SERVES without it and serves with `--env`; the key's value (a canary) never reaches any
file of the certification bundle, the reports, the reproductions or the terminal, although the
agent prints it in its log and in an error page. A reserved name is refused in one line."""

from __future__ import annotations

import json
from pathlib import Path

CANARY = "sk-canary-7f3a9c2e41d0"


def _every_text(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): p.read_text(errors="replace") for p in folder.rglob("*") if p.is_file()}


def test_a_key_given_with_env_serves_and_never_shows(built_samples, run_cli, tmp_path):
    bundle = tmp_path / "bundle"
    run = run_cli(built_samples["broken/needs-model-key"].tag, "--env", "MODEL_API_KEY", "--certify", str(bundle),
                  "--report-html", str(tmp_path / "report.html"), "--fuzz-examples", "50",
                  env={"MODEL_API_KEY": CANARY})
    statuses = run.statuses()
    assert statuses["ENDPOINT-SERVES"] == "pass", run.explain()
    evidence = run.requirement("ENDPOINT-SERVES")["evidence"]
    assert any("given MODEL_API_KEY (values not shown)" in line for line in evidence)
    # Its careless error page names the key: ERRORS-JSON fails, and the evidence shows it hidden.
    assert statuses["ERRORS-JSON"] == "fail"
    errors = " ".join(run.requirement("ERRORS-JSON")["evidence"])
    assert "[MODEL_API_KEY redacted]" in errors and CANARY not in errors
    logs = [text for name, text in _every_text(bundle).items() if name.startswith("logs/")]
    assert any("model client: key [MODEL_API_KEY redacted]" in text for text in logs)
    written = {**_every_text(bundle), **_every_text(tmp_path)}
    leaked = [name for name, text in written.items() if CANARY in text]
    assert leaked == [] and CANARY not in run.stdout + run.stderr
    info = json.loads(written["bundle/certification.json"])
    assert info["agent_config"]["env"] == ["MODEL_API_KEY"]  # the name, never the value


def test_without_the_key_only_endpoint_serves_is_the_cause(built_samples, run_cli):
    run = run_cli(built_samples["broken/needs-model-key"].tag, "--fuzz-examples", "0")
    assert run.returncode == 1
    assert run.requirement("ENDPOINT-SERVES")["status"] == "fail"
    evidence = run.requirement("ENDPOINT-SERVES")["evidence"]
    assert any("no environment of its own" in line and "--env NAME=VALUE" in line for line in evidence)
    for rid in ("NEGOTIATE-JSON", "NEGOTIATE-SSE", "SSE-FRAMING"):
        assert run.requirement(rid)["cause"] == "ENDPOINT-SERVES"
    assert "MUST not met: ENDPOINT-SERVES; and 3 MUSTs not checked because of ENDPOINT-SERVES" in run.stdout


def test_a_reserved_name_is_refused_before_any_container(run_cli):
    run = run_cli("agent-conformance/sample-reference:latest", "--env", "K_SERVICE=mine")
    assert run.returncode == 2
    assert "K_SERVICE is reserved by the oci-hosted platform" in run.stderr
