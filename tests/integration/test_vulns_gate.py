"""NO-CRITICAL-VULNS through the real command on the reference image: a CRITICAL finding fails the
verdict, a clean report passes, no report and no scanner skips saying how to make one, a report of
another image is refused, a malformed one is a usage error before any container starts, and a
scanner found on PATH is run (a real executable standing in for trivy)."""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO

FIXTURES = REPO / "tests" / "fixtures" / "vulns"
ONLY_THE_SCAN = ["--", "-k", "test_no_critical_vulnerability"]  # the check needs no container
RID = "NO-CRITICAL-VULNS"


def for_image(fixture: str, image_id: str, out: Path) -> Path:
    """The fixture, made to name the candidate: the fixtures name an image of their own, which the
    digest check (rightly) refuses."""
    data = json.loads((FIXTURES / fixture).read_text())
    if "Metadata" in data:  # Trivy
        data["Metadata"].update(ImageID=image_id, RepoDigests=[])
    else:  # Grype
        target = data["source"]["target"]
        target.update(imageID=image_id, repoDigests=[])
        target.pop("manifestDigest", None)
    out.write_text(json.dumps(data))
    return out


@pytest.fixture
def reference(built_samples, docker_client):
    tag = built_samples["reference"].tag
    return tag, docker_client.images.get(tag).id


@pytest.mark.parametrize("fixture", ["trivy-critical.json", "grype-critical.json"])
def test_a_critical_finding_fails_the_verdict(fixture, reference, run_cli, tmp_path):
    tag, image_id = reference
    run = run_cli(tag, "--vuln-report", str(for_image(fixture, image_id, tmp_path / "scan.json")), *ONLY_THE_SCAN)
    assert run.returncode == 1 and run.report["verdict"] == "fail", run.explain()
    result = run.requirement(RID)
    assert result["status"] == "fail", run.explain()
    assert result["evidence"][0] == "2 CRITICAL vulnerabilities: the platform's scan refuses to deploy this image"
    # Package, installed version, CVE ID and fixed version of each.
    assert any(line.startswith("CVE-2023-45853 in zlib1g 1:1.2.13.dfsg-1 (no fix yet)") for line in result["evidence"])
    # Grype names the certifi advisory by its GHSA ID, Trivy by its CVE.
    assert any(re.match(r"(CVE-2023-37920|GHSA-xqr8-7jwr-rhp7) in certifi 2023\.5\.7 \(fixed in 2023\.7\.22\)", line)
               for line in result["evidence"])
    assert f"### {RID} (MUST) — fail" in run.report_md


@pytest.mark.parametrize("fixture", ["trivy-clean.json", "grype-clean.json"])
def test_a_clean_report_passes(fixture, reference, run_cli, tmp_path):
    tag, image_id = reference
    run = run_cli(tag, "--vuln-report", str(for_image(fixture, image_id, tmp_path / "scan.json")), *ONLY_THE_SCAN)
    assert run.returncode == 0 and run.requirement(RID)["status"] == "pass", run.explain()
    tally = [line for line in run.requirement(RID)["evidence"] if " vulnerabilities: " in line]
    assert tally and "HIGH" in tally[0] and "CRITICAL" not in tally[0]


def test_no_report_and_no_scanner_skips_with_the_command(reference, run_cli, tmp_path):
    tag, _ = reference
    empty = tmp_path / "bin"
    empty.mkdir()
    path = f"{empty}:/usr/bin:/bin"
    if any(shutil.which(s, path=path) for s in ("trivy", "grype")):
        pytest.skip("a scanner is installed in /usr/bin or /bin")
    run = run_cli(tag, *ONLY_THE_SCAN, env={"PATH": path})
    assert run.returncode == 0, run.explain()
    result = run.requirement(RID)
    assert result["status"] == "skip"
    assert f"trivy image --format json --output trivy.json {tag}" in result["evidence"][0]
    assert "--vuln-report FILE" in result["evidence"][0]


def test_a_report_of_another_image_is_refused(reference, run_cli):
    tag, image_id = reference
    run = run_cli(tag, "--vuln-report", str(FIXTURES / "trivy-critical.json"), *ONLY_THE_SCAN)
    assert run.returncode == 1 and run.report["verdict"] == "fail", run.explain()
    result = run.requirement(RID)
    assert result["status"] == "error"
    first = result["evidence"][0]
    assert first.startswith(f"not checked: {FIXTURES / 'trivy-critical.json'}: report is for sha256:d64f75547c9b")
    assert f"candidate is sha256:{image_id.split(':')[1][:12]}" in first
    assert any(line == f"candidate: {tag} = {image_id}" for line in result["evidence"])


@pytest.mark.parametrize("fixture, why", [
    ("malformed-truncated.json", "truncated JSON"),
    ("not-json.txt", "not JSON"),
    ("trivy-table.txt", "looks like Trivy's table output"),
    ("sarif.json", "SARIF"),
])
def test_a_malformed_report_is_refused_before_any_container(fixture, why, reference, run_cli):
    tag, _ = reference
    run = run_cli(tag, "--vuln-report", str(FIXTURES / fixture))  # the whole suite: would start containers
    assert run.returncode == 2, run.explain()
    refusal = [line for line in (run.stdout + run.stderr).splitlines() if "vulnerability report refused" in line]
    assert len(refusal) == 1 and str(FIXTURES / fixture) in refusal[0] and why in refusal[0], run.stderr
    assert {r["status"] for r in run.report["requirements"]} == {"error"}  # the report is written all the same


def test_a_scanner_on_path_is_run(reference, run_cli, tmp_path):
    tag, image_id = reference
    report = for_image("trivy-critical.json", image_id, tmp_path / "fixture.json")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    trivy = bin_dir / "trivy"  # a real executable, run as the suite runs trivy: it writes --output
    trivy.write_text(f"#!{sys.executable}\nimport shutil, sys\n"
                     f"args = sys.argv[1:]\nassert args[:3] == ['image', '--image-src', 'docker'], args\n"
                     f"shutil.copy({str(report)!r}, args[args.index('--output') + 1])\n")
    trivy.chmod(0o755)
    run = run_cli(tag, *ONLY_THE_SCAN, env={"PATH": f"{bin_dir}:/usr/bin:/bin"})
    assert run.returncode == 1, run.explain()
    assert run.requirement(RID)["status"] == "fail"
    assert f"report: trivy found on PATH, run on {tag} (trivy 0.57.1)" in run.requirement(RID)["evidence"]
