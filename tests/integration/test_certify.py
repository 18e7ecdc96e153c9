"""`--certify DIR`: the bundle a reviewer gets. Two certifications of the reference agent (same
image, same config, same scanner report) must differ only in timestamps and measured figures; the
bundle verifies against its SHA256SUMS, junit.xml names each check's requirement and level, and
every candidate's log is there, also under pytest-xdist."""

from __future__ import annotations

import base64
import difflib
import json
import re
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conformance import __version__
from conformance.contract.agent_config import AgentConfig
from conformance.contract.catalogue import IDS
from conformance.session.setup import CERTIFY_FUZZ_SEED
from conformance.report import attestation
from conformance.report import bundle as bundle_files
from tests.helpers import finish, start_cli
from tests.integration.test_vulns_gate import for_image

# What may differ between two certifications of the same image: when they ran, and what was
# measured. Each mask names the measured figure it hides; everything else must be byte-identical.
MEASURED = [
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"), "<timestamp>"),
    (re.compile(r'\btime="[\d.]+"'), 'time="<s>"'),  # junit.xml durations
    (re.compile(r'"duration_s": [\d.]+'), '"duration_s": <s>'),
    (re.compile(r"· [\d.]+ s$", re.M), "· <s> s"),  # report.md's run time
    (re.compile(r"\b\d+(?:\.\d+)? ?(ms|s)\b"), r"<n> \1"),  # response and startup times
    (re.compile(r"\(\d+/s,"), "(<n>/s,"),  # fuzzing rate
    (re.compile(r"\b\d+ probes while"), "<n> probes while"),  # as many as fit in a stream's duration
    (re.compile(r"slowest /\w+"), "slowest <probe>"),
    (re.compile(r"\b\d+ B\b"), "<n> B"),  # chunk sizes as TCP delivered them
    (re.compile(r"^<figure>.*</figure>$", re.M), "<figure>"),  # report.html's plots: drawn from measurements
    (re.compile(r"Calls to the declared endpoints: .*\."), "Calls to the declared endpoints: <n>."),  # settling polls
    (re.compile(r"<n> ms \((\d+)\)"), "<n> ms (<n>)"),  # the latency line's request counts: as many polls as it took
    # Whether a short stream was still in flight when SIGTERM landed is a race the agent's own
    # timing decides (the reference streams for ~60 ms): what the client saw is measured.
    (re.compile(r"; the stream (was cut \(\w+\) after <n> B|ended cleanly \(<n> B received\))"), "; the stream <fate>"),
    (re.compile(r"the stream (was cut \(\w+\) after \d+ bytes|ended cleanly \(\d+ bytes received\))"),
     "the stream <fate>"),
]


def masked(text: str) -> str:
    for pattern, replacement in MEASURED:
        text = pattern.sub(replacement, text)
    return text


def comparable(bundle: Path) -> dict[str, list[str]]:
    """Each file's lines, measured figures masked. A log is compared as its set of distinct lines:
    how many times /ready was polled or a probe fitted into a stream is timing, not content."""
    files = {}
    for path in sorted(p for p in bundle.rglob("*") if p.is_file() and p.name != bundle_files.SUMS):
        text = path.read_text(encoding="utf-8")
        if path.name == "report.json":  # "measurements" and "endpoint_calls" are all measured figures
            measured = ("measurements", "endpoint_calls")
            text = json.dumps({k: v for k, v in json.loads(text).items() if k not in measured}, indent=2)
        if path.name == attestation.FILE:  # the statement, but the digests of files that hold measured figures
            statement = json.loads(base64.b64decode(json.loads(text)["payload"]))
            del statement["predicate"][attestation.EXTENSION]["files"]
            text = json.dumps(statement, indent=2)
        lines = masked(text).splitlines()
        files[path.relative_to(bundle).as_posix()] = sorted(set(lines)) if path.parent.name == bundle_files.LOGS else lines
    return files


@pytest.fixture(scope="module")
def certified(built_samples, tmp_path_factory, docker_client):
    """Two certifications, one after the other, of the reference agent with one scanner report."""
    tag = built_samples["reference"].tag
    work = tmp_path_factory.mktemp("certify")
    scan = for_image("trivy-clean.json", docker_client.images.get(tag).id, work / "trivy.json")
    runs = []
    for name in ("first", "second"):
        started = time.monotonic()
        process = start_cli([tag, "--certify", str(work / name), "--vuln-report", str(scan)], work)
        runs.append(finish(process, work, started, docker_client))
    return tag, work / "first", work / "second", runs


def test_two_certifications_differ_only_in_timestamps_and_measured_figures(certified):
    _, first, second, runs = certified
    assert [r.returncode for r in runs] == [0, 0], runs[0].explain()
    a, b = comparable(first), comparable(second)
    assert sorted(a) == sorted(b)
    for name in a:
        diff = "\n".join(difflib.unified_diff(a[name], b[name], f"first/{name}", f"second/{name}", lineterm="", n=1))
        assert not diff, f"{name} differs beyond timestamps and measured figures:\n{diff[:3000]}"


def test_the_bundle_verifies_and_holds_every_file(certified):
    _, first, _, _ = certified
    names = sorted(p.relative_to(first).as_posix() for p in first.rglob("*") if p.is_file())
    assert [n for n in names if not n.startswith("logs/")] == [
        "SHA256SUMS", "attestation.intoto.jsonl", "certification.json", "junit.xml", "profile.toml", "report.html",
        "report.json", "report.md", "repro.sh", "vulnerability-report.json"]
    logs = [n.removeprefix("logs/") for n in names if n.startswith("logs/")]
    assert "shared.log" in logs
    # Named by role and check: the same names in every run (no container name, run ID or PID).
    assert all(re.fullmatch(r"[A-Za-z0-9._-]+\.log", n) and not re.search(r"[0-9a-f]{8}", n) for n in logs), logs
    assert bundle_files.verify(first) == []
    assert subprocess.run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=first, timeout=30).returncode == 0


def test_certification_names_image_suite_and_config(certified, docker_client):
    tag, first, _, _ = certified
    info = json.loads((first / "certification.json").read_text())
    image = docker_client.images.get(tag)
    assert info["image"]["id"] == image.id and info["image"]["ref"] == tag
    assert info["image"]["repo_digests"] == sorted(image.attrs.get("RepoDigests") or [])
    assert info["suite"] == {"name": "agent-conformance", "version": __version__}
    assert info["agent_config"] == AgentConfig().as_dict()
    assert info["verdict"] == "pass" and info["options"]["fuzz_seed"] == CERTIFY_FUZZ_SEED
    assert json.loads((first / "report.json").read_text())["verdict"] == "pass"


def test_junit_cases_carry_requirement_and_level(certified):
    _, first, _, _ = certified
    report = json.loads((first / "report.json").read_text())
    levels = {r["id"]: r["level"] for r in report["requirements"]}
    suite = ET.parse(first / "junit.xml").getroot().find("testsuite")
    cases = suite.findall("testcase")
    seen = []
    for case in cases:
        props = {p.get("name"): p.get("value") for p in case.find("properties")}
        assert props["level"] == levels[props["requirement"]], case.get("name")
        seen.append(props["requirement"])
    assert list(dict.fromkeys(seen)) == list(IDS)  # every ID, in catalogue order
    assert len(cases) > len(IDS)  # one per check, not one per ID
    assert suite.get("failures") == "0" and suite.get("errors") == "0"


def test_logs_are_kept_and_carry_nothing_run_specific(certified):
    _, first, _, _ = certified
    log = (first / "logs" / "shared.log").read_text()
    assert log.startswith("# candidate: role shared\n")
    assert "# constraints: read-only root, reserved variables injected, volumes masked" in log
    assert "Uvicorn running on http://0.0.0.0:8080" in log
    for path in first.rglob("*"):
        if path.is_file():
            text = path.read_text()
            assert not re.search(r"agent-conformance-[0-9a-f]{8}-", text), f"a container name in {path.name}"
            ephemeral = re.search(r"\d+\.\d+\.\d+\.\d+:(3[3-9]\d{3}|[4-6]\d{4})\b", text)
            assert not ephemeral, f"an ephemeral port in {path.name}: {ephemeral.group()}"


def test_under_xdist_workers_write_their_logs_and_the_controller_the_rest(run_cli, tmp_path, certified, docker_client):
    tag, first, _, _ = certified
    bundle = tmp_path / "bundle"
    scan = for_image("trivy-clean.json", docker_client.images.get(tag).id, tmp_path / "trivy.json")
    run = run_cli(tag, "--certify", str(bundle), "--vuln-report", str(scan), "--", "-n", "2")
    assert run.returncode == 0, run.explain()
    logs = {p.name for p in (bundle / "logs").iterdir()}
    sequential_logs = {p.name for p in (first / "logs").iterdir()}
    # Each worker's own shared candidate; the candidates of single checks named as without xdist.
    assert logs == sequential_logs - {"shared.log"} | {"shared.gw0.log", "shared.gw1.log"}
    assert bundle_files.verify(bundle) == []
    # The same statuses as without xdist. Evidence may differ: a worker's shared candidate serves a
    # different share of the checks.
    report, sequential = (json.loads((d / "report.json").read_text()) for d in (bundle, first))
    assert [(x["id"], x["status"]) for x in report["requirements"]] == [
        (x["id"], x["status"]) for x in sequential["requirements"]]
    cases = ET.parse(bundle / "junit.xml").getroot().find("testsuite").findall("testcase")
    assert len(cases) == len(ET.parse(first / "junit.xml").getroot().find("testsuite").findall("testcase"))


def test_a_directory_holding_other_files_is_refused(built_samples, run_cli, tmp_path):
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "notes.txt").write_text("mine")
    run = run_cli(built_samples["reference"].tag, "--certify", str(bundle))
    assert run.returncode == 2
    assert f"--certify {bundle}: not empty and not an earlier bundle (holds 'notes.txt')" in run.stdout + run.stderr
    assert sorted(p.name for p in bundle.iterdir()) == ["notes.txt"]
