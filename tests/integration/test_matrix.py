"""Every sample agent gets exactly the verdict its expected.toml names: the conformant ones pass
every implemented requirement, each broken one fails exactly its IDs (and errors exactly the IDs
its defect prevents from being checked)."""

from __future__ import annotations

import pytest

from samplekit import matrix, samples
from tests.repro_replay import FreshContainer, replay, repros_of

# The hostile samples get the same assertions, and bounds on time and memory, in test_hostile.py.
SAMPLES = [s for s in samples.discover() if not s.name.startswith("hostile/")]


@pytest.mark.parametrize("sample", SAMPLES, ids=[s.name for s in SAMPLES])
def test_sample_gets_its_expected_verdict(sample, built_samples, run_cli, docker_client):
    args = [sample.tag] + (["--agent-config", str(sample.agent_config)] if sample.agent_config else [])
    run = run_cli(*args)
    # fail and error IDs exactly, expected passes, verdict, exit status; a conformant one passes everything.
    assert matrix.compare(sample.expected, run.report, run.returncode) == [], run.explain()
    for rid in sample.expected.fail:
        assert run.requirement(rid)["evidence"], f"{rid} failed without evidence"
        assert f"### {rid} (" in run.report_md and "**How to fix:**" in run.report_md
    # One root cause per failure: a MUST in error names the requirement whose defect kept it from
    # being checked (an error of the run itself names none, and says so in its evidence).
    for row in run.report["requirements"]:
        if row["level"] == "MUST" and row["status"] == "error" and not row["cause"]:
            assert sample.expected.error == "runtime" or row["id"] in _errors_of_their_own(run.report), row
    # Repros that run: each failing generated request, replayed as written on a fresh container of
    # the image (a crash needs its own), shows the same failure again.
    repros = repros_of(run.report)
    assert repros or "ROBUST-INPUT" not in sample.expected.fail, "ROBUST-INPUT failed with no reproduction"
    for repro in repros:
        with FreshContainer(docker_client, sample.tag, run.report["profile"]["port"], run.report["setup"]) as fresh:
            assert replay(repro, fresh) == "", f"{repro.requirement}: {repro.cause}\n{repro.command[:500]}"


def _errors_of_their_own(report) -> set[str]:
    """MUSTs that err for a reason of their own (a check that could not run, a refused scanner
    report), which the headline names as causes."""
    return {r["id"] for r in report["requirements"] if r["status"] == "error" and not r["cause"]
            and any("could not run" in line or "refused" in line or "not checked" in line for line in r["evidence"])}


def test_reserved_variable_values_never_reach_the_report(built_samples, run_cli):
    run = run_cli(built_samples["broken/reserved-env"].tag)
    evidence = " ".join(run.requirement("IMAGE-RESERVED-ENV")["evidence"])
    assert "PORT" in evidence and "OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM" in evidence
    for text in (str(run.report), run.report_md, run.stdout, run.stderr):
        assert "canary-secret-value" not in text


def test_redirect_evidence_shows_the_request_and_the_location(built_samples, run_cli):
    run = run_cli(built_samples["broken/ready-redirect"].tag)
    evidence = run.requirement("READY-200")["evidence"]
    assert evidence[0] == "GET /ready answered 307, not 200"
    assert "sent: curl -sS -i -H Accept: http://127.0.0.1:8080/ready" in evidence
    assert any("location: http://127.0.0.1:8080/ready/" in line for line in evidence)
    assert any("trailing slash" in line for line in evidence)


def test_listening_sockets_are_evidence(built_samples, run_cli):
    run = run_cli(built_samples["broken/loopback-only"].tag)
    assert "listens on 127.0.0.1:8080" in run.requirement("LISTEN-ALL-INTERFACES")["evidence"][0]
    wrong = run_cli(built_samples["broken/wrong-port"].tag)
    assert "listens on 0.0.0.0:8000" in " ".join(wrong.requirement("LISTEN-PORT-8080")["evidence"])
