"""`--profile`: the other platforms' contracts from the command line. Bad input is refused before
any container starts; the report, the JUnit file and the bundle name the profile and its version.
(The profiles' sample agents get their verdicts in test_matrix.py, as every sample does.)"""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from tests.integration.test_vulns_gate import for_image

RUN = [sys.executable, "-m", "conformance.cli"]


def test_list_requirements_of_a_profile_with_each_rule_and_its_source():
    out = subprocess.run(RUN + ["--list-requirements", "--profile", "aws-agentcore"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("# aws-agentcore (AWS Bedrock AgentCore Runtime (HTTP protocol), read 2026-11-30): ")
    assert "MUST" in lines[0] and "SHOULD" in lines[0]
    rows = [line.split()[0] for line in lines[1:] if not line.startswith(" ")]
    assert rows[0] == "IMAGE-PLATFORM" and "PING-STATUS-JSON" in rows and "NEGOTIATE-SSE" not in rows
    sources = [line.strip() for line in lines if line.strip().startswith("source: ")]
    assert len(sources) == len(rows) and all("https://docs.aws.amazon.com/" in line for line in sources)
    assert sum(line.strip().startswith("check: suite/test_") for line in lines) >= len(rows)


@pytest.mark.parametrize("args, config, said", [
    (["--profile", "aws"], None, "unknown profile 'aws': the known profiles are aws-agentcore, azure-foundry"),
    ([], 'profile = "cloud-run"\nport = 8088\n', None),  # cloud-run takes its port from $PORT: any is fine
    ([], 'profile = "azure-foundry"\nport = 8080\n', "says port 8080, and the azure-foundry profile's platform sends "
                                                     "traffic to port 8088"),
    (["--profile", "knative"], 'profile = "cloud-run"\n', "--profile knative but the agent config"),
])
def test_bad_profile_input_is_refused_before_any_container(tmp_path, args, config, said):
    argv = RUN + ["agent-conformance/no-such-image:v0", *args, "--report-json", str(tmp_path / "r.json")]
    if config is not None:
        (tmp_path / "agent.toml").write_text(config)
        argv += ["--agent-config", str(tmp_path / "agent.toml")]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    if said is None:  # accepted: it gets as far as the image, which is not there
        assert "not in the local Docker engine" in out.stdout + out.stderr
        return
    refused = [line for line in (out.stdout + out.stderr).splitlines() if "profile refused" in line]
    assert len(refused) == 1 and said in refused[0], out.stdout + out.stderr


def test_the_report_and_the_bundle_name_the_profile(built_samples, run_cli, tmp_path, docker_client):
    sample = built_samples["cloud-run"]
    scan = for_image("trivy-clean.json", docker_client.images.get(sample.tag).id, tmp_path / "trivy.json")
    run = run_cli(sample.tag, "--agent-config", str(sample.agent_config), "--certify", str(tmp_path / "bundle"),
                  "--vuln-report", str(scan))
    assert run.returncode == 0, run.explain()
    assert run.report["profile"]["name"] == "cloud-run" and run.report["profile"]["version"] == "2026-11-30"
    assert [r["id"] for r in run.report["requirements"]][-1] == "PORT-FROM-ENV"
    assert "READY-200" not in {r["id"] for r in run.report["requirements"]}  # Cloud Run asks for no /ready
    assert "Contract: cloud-run (Google Cloud Run (services), read 2026-11-30)." in run.report_md
    junit = ET.parse(tmp_path / "bundle" / "junit.xml").getroot()
    props = {p.get("name"): p.get("value") for p in junit.iter("property")}
    assert props["profile"] == "cloud-run" and props["profile.version"] == "2026-11-30"
    import json
    assert json.loads((tmp_path / "bundle" / "certification.json").read_text())["profile"]["name"] == "cloud-run"
