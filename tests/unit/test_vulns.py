"""NO-CRITICAL-VULNS: reading Trivy/Grype reports, refusing the wrong ones, running a scanner."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from conformance.errors import VulnReportError
from conformance.image import vulns
from conformance.image.vulns import Finding, ScanReport

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "vulns"

# The image the fixtures were "scanned" from: config digest (Docker's classic image ID), the index
# digest in its repo digest, and the platform manifest digest Grype reports.
AGENT_ID = "sha256:d64f75547c9bcab968b7c2916044f95b405cee9b77035744a8f170bd3416bfda"
AGENT_REPO = "registry.example.com/team/agent@sha256:7c2d9fbb8a32cc5872498b1bfd87f55bba7b8658954b1474b4b15211b07e546f"
AGENT_MANIFEST = "sha256:6b1faa9228554ad57ee221d5b91e52deaca90414db9643b84310b8cb0d529ee2"
OTHER_ID = "sha256:a25ddb6c18eb4315b57458384db57bb737b24656ed9790f5353cc590b96320ea"


def load(name: str) -> ScanReport:
    return vulns.read_report(FIX / name)[1]


def data(name: str) -> dict:
    return json.loads((FIX / name).read_text())


def refusal(data_or_path, source: str = "r.json") -> str:
    with pytest.raises(VulnReportError) as exc:
        if isinstance(data_or_path, Path):
            vulns.read_report(data_or_path)[1]
        else:
            vulns.parse_report(data_or_path, source)
    message = str(exc.value)
    assert "\n" not in message
    return message


# -- detection and mapping -------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, scanner, count",
    [
        ("trivy-clean.json", "trivy", 7),
        ("trivy-critical.json", "trivy", 9),
        ("trivy-null-vulns.json", "trivy", 0),
        ("trivy-other-image.json", "trivy", 7),
        ("grype-clean.json", "grype", 6),
        ("grype-critical.json", "grype", 9),
    ],
)
def test_detects_scanner_by_structure(name, scanner, count):
    report = load(name)
    assert report.scanner == scanner
    assert len(report.findings) == count


def test_trivy_fields():
    report = load("trivy-critical.json")
    assert report.scanner_version == "0.57.1"
    assert report.image_ids == (AGENT_ID,)
    assert report.repo_digests == (AGENT_REPO,)
    assert report.artifact == "registry.example.com/team/agent:1.0"
    assert report.critical == (
        Finding("CVE-2023-45853", "zlib1g", "1:1.2.13.dfsg-1", "", "CRITICAL", "debian 12.7 os-pkgs"),
        Finding("CVE-2023-37920", "certifi", "2023.5.7", "2023.7.22", "CRITICAL", "Python lang-pkgs"),
    )
    assert Finding("CVE-2024-2511", "libssl3", "3.0.13-1~deb12u1", "3.0.14-1~deb12u1", "MEDIUM",
                   "debian 12.7 os-pkgs") in report.findings


def test_grype_fields():
    report = load("grype-critical.json")
    assert report.scanner_version == "0.82.2"
    assert report.image_ids == (AGENT_ID, AGENT_MANIFEST)  # imageID, then manifestDigest
    assert report.repo_digests == (AGENT_REPO,)
    assert report.artifact == "registry.example.com/team/agent:1.0"
    by_id = {f.vulnerability_id: f for f in report.findings}
    assert by_id["CVE-2023-45853"] == Finding(
        "CVE-2023-45853", "zlib1g", "1:1.2.13.dfsg-1", "", "CRITICAL", "deb /var/lib/dpkg/status")
    certifi = by_id["GHSA-xqr8-7jwr-rhp7"]
    assert (certifi.package, certifi.installed_version, certifi.fixed_version, certifi.severity) == (
        "certifi", "2023.5.7", "2023.7.22", "CRITICAL")
    assert certifi.target.startswith("python /usr/local/lib/python3.12/site-packages/certifi-")
    # fix.versions lists one fixed version per affected range: all are kept.
    assert by_id["GHSA-g4mx-q9vg-27p4"].fixed_version == "1.26.18, 2.0.7"
    assert by_id["CVE-2023-50495"].fixed_version == ""  # state not-fixed, versions []


def test_severity_is_upper_case_whatever_the_scanner_writes():
    assert {f.severity for f in load("grype-clean.json").findings} == {"HIGH", "MEDIUM", "LOW", "NEGLIGIBLE"}
    d = data("trivy-clean.json")
    d["Results"][0]["Vulnerabilities"][0]["Severity"] = "critical"
    assert [f.vulnerability_id for f in vulns.parse_report(d).critical] == ["CVE-2024-2511"]


def test_clean_reports_have_no_critical():
    assert load("trivy-clean.json").critical == ()
    assert load("grype-clean.json").critical == ()
    assert [f.vulnerability_id for f in load("grype-critical.json").critical] == [
        "CVE-2023-45853", "GHSA-xqr8-7jwr-rhp7"]


def test_trivy_secrets_are_not_vulnerabilities():
    # trivy-clean carries a CRITICAL secret finding: not a CVE, not this requirement.
    d = data("trivy-clean.json")
    assert any(r.get("Secrets") and r["Secrets"][0]["Severity"] == "CRITICAL" for r in d["Results"])
    assert vulns.parse_report(d).critical == ()


def test_null_and_absent_vulnerabilities_mean_none():
    d = data("trivy-null-vulns.json")
    assert d["Results"][0]["Vulnerabilities"] is None and "Vulnerabilities" not in d["Results"][1]
    assert load("trivy-null-vulns.json").findings == ()
    del d["Results"]  # trivy omits Results when nothing was detected at all
    assert vulns.parse_report(d).findings == ()
    g = data("grype-clean.json")
    g["matches"] = None
    assert vulns.parse_report(g).findings == ()


def test_missing_fixed_version_and_fix_block():
    d = data("grype-critical.json")
    del d["matches"][0]["vulnerability"]["fix"]
    assert vulns.parse_report(d).findings[0].fixed_version == ""


# -- matching the candidate image ------------------------------------------------------------

HEX = AGENT_ID.removeprefix("sha256:")


@pytest.mark.parametrize(
    "image_id, repo_digests",
    [
        (AGENT_ID, []),
        (HEX, []),  # no sha256: prefix
        (HEX[:12], []),  # Docker's short ID
        ("sha256:" + HEX[:12], []),
        (AGENT_ID.upper().replace("SHA256", "sha256"), []),
        ("sha256:" + "0" * 64, [AGENT_REPO]),  # image ID differs, repo digest matches
        ("", ["agent@" + AGENT_REPO.split("@")[1]]),  # another repo name, same digest
        ("", [AGENT_REPO.split("@")[1]]),  # bare digest
    ],
)
def test_report_names_candidate(image_id, repo_digests):
    assert vulns.check_matches_image(load("trivy-clean.json"), image_id, repo_digests) is None
    assert vulns.check_matches_image(load("grype-clean.json"), image_id, repo_digests) is None


def test_grype_manifest_digest_matches_containerd_image_id():
    # With Docker's containerd image store `docker inspect` gives the manifest digest as the ID.
    assert vulns.check_matches_image(load("grype-clean.json"), AGENT_MANIFEST, []) is None


def test_short_id_in_report_matches_full_candidate():
    report = ScanReport("trivy", "", ("sha256:" + HEX[:12],), (), ())
    assert vulns.check_matches_image(report, AGENT_ID, []) is None


def test_report_of_another_image_is_refused():
    reason = vulns.check_matches_image(load("trivy-other-image.json"), AGENT_ID, [AGENT_REPO])
    assert reason == ("report is for sha256:a25ddb6c18eb… (registry.example.com/team/agent:0.9), "
                      "candidate is sha256:d64f75547c9b…")
    g = data("grype-clean.json")
    g["source"]["target"].update(imageID=OTHER_ID, manifestDigest="sha256:" + "1" * 64, repoDigests=[])
    reason = vulns.check_matches_image(vulns.parse_report(g), AGENT_ID, [AGENT_REPO])
    assert reason and reason.startswith("report is for sha256:a25ddb6c18eb…")


def test_too_short_a_prefix_is_not_a_match():
    assert vulns.check_matches_image(load("trivy-clean.json"), HEX[:6], []) is not None


def test_report_naming_no_image_is_accepted():
    d = data("trivy-clean.json")
    d["Metadata"] = {}
    assert vulns.check_matches_image(vulns.parse_report(d), AGENT_ID, []) is None
    g = data("grype-clean.json")
    del g["source"]
    assert vulns.check_matches_image(vulns.parse_report(g), AGENT_ID, []) is None


def test_describe_finding():
    assert vulns.describe_finding(Finding("CVE-2023-1234", "openssl", "3.0.2", "3.0.7", "CRITICAL",
                                          "debian 12 os-pkgs")) == (
        "CVE-2023-1234 in openssl 3.0.2 (fixed in 3.0.7) [debian 12 os-pkgs]")
    unfixed = Finding("CVE-2023-45853", "zlib1g", "1:1.2.13.dfsg-1", "", "CRITICAL", "")
    assert vulns.describe_finding(unfixed) == (
        "CVE-2023-45853 in zlib1g 1:1.2.13.dfsg-1 (no fix yet)")
    assert vulns.describe_finding(Finding("GHSA-xxxx", "left-pad", "", "", "HIGH", "npm")) == (
        "GHSA-xxxx in left-pad (no fix yet) [npm]")


# -- refusing what cannot decide -------------------------------------------------------------


@pytest.mark.parametrize(
    "name, expected",
    [
        ("sarif.json", ["SARIF", "trivy image --format json"]),
        ("cyclonedx.json", ["CycloneDX", "grype … -o json"]),
        ("trivy-table.txt", ["Trivy's table output", "--format json"]),
        ("grype-table.txt", ["Grype's table output", "-o json"]),
        ("not-json.txt", ["not JSON", "starts '2024-11-05"]),
        ("malformed-truncated.json", ["truncated JSON"]),
        ("trivy-wrong-shape.json", ["Results is an object, expected a list"]),
        ("grype-wrong-shape.json", ["matches[1]", "'artifact'"]),
    ],
)
def test_refusals_name_the_file_and_the_defect(name, expected):
    message = refusal(FIX / name)
    assert message.startswith(f"{FIX / name}: ")
    for part in expected:
        assert part in message


def test_refuses_unreadable_empty_and_binary_files(tmp_path):
    assert "cannot read" in refusal(tmp_path / "missing.json")
    (tmp_path / "empty.json").write_text("  \n")
    assert "empty file" in refusal(tmp_path / "empty.json")
    (tmp_path / "image.tar").write_bytes(b"\x1f\x8b\x08\x00\xff\xfe")
    assert "not UTF-8" in refusal(tmp_path / "image.tar")


def test_truncated_inside_a_string(tmp_path):
    (tmp_path / "cut.json").write_text('{"SchemaVersion": 2, "ArtifactName": "registry.exa')
    assert "truncated JSON" in refusal(tmp_path / "cut.json")


@pytest.mark.parametrize(
    "doc, expected",
    [
        ([{"Target": "alpine:3.10 (alpine 3.10.2)", "Vulnerabilities": None}], "before v0.20"),
        ([], "unrecognised JSON (a list)"),
        (42, "unrecognised JSON (a number)"),
        ({"hello": "world"}, "top-level keys: hello"),
        ({"spdxVersion": "SPDX-2.3", "packages": []}, "SPDX"),
        ({"artifacts": [], "descriptor": {"name": "syft", "version": "1.16.0"}}, "Syft SBOM"),
        ({"descriptor": {"name": "grype", "version": "0.82.2"}}, "Grype report without 'matches'"),
    ],
)
def test_refuses_other_documents(doc, expected):
    message = refusal(doc)
    assert message.startswith("r.json: ") and expected in message


def test_refuses_trivy_of_the_wrong_shape():
    d = data("trivy-clean.json")
    del d["Results"][0]["Vulnerabilities"][1]["VulnerabilityID"]
    assert "Results[0].Vulnerabilities[1]: 'VulnerabilityID' missing" in refusal(d)
    d = data("trivy-clean.json")
    del d["Results"][1]["Vulnerabilities"][0]["Severity"]  # no severity could hide a CRITICAL
    assert "Results[1].Vulnerabilities[0]: 'Severity'" in refusal(d)
    d = data("trivy-clean.json")
    d["SchemaVersion"] = 1
    assert "SchemaVersion 1" in refusal(d)
    d = data("trivy-clean.json")
    d["Results"][0]["Vulnerabilities"] = {"CVE-2024-2511": {}}
    assert "Results[0].Vulnerabilities is an object" in refusal(d)


def test_refuses_grype_of_the_wrong_shape():
    g = data("grype-clean.json")
    g["matches"][2]["vulnerability"]["fix"]["versions"] = "3.0.14"
    assert "matches[2].vulnerability.fix.versions is a string" in refusal(g)
    g = data("grype-clean.json")
    del g["matches"][0]["vulnerability"]["severity"]
    assert "matches[0].vulnerability: 'severity'" in refusal(g)


def test_refuses_reports_of_something_other_than_an_image():
    # A `trivy fs .` of the source tree, or `grype dir:.`, says nothing about the image's OS packages.
    d = data("trivy-clean.json")
    d["ArtifactType"] = "filesystem"
    assert "Trivy report of a filesystem" in refusal(d)
    g = data("grype-clean.json")
    g["source"] = {"type": "directory", "target": "."}
    assert "Grype report of a directory" in refusal(g)


# -- producing a report ----------------------------------------------------------------------


def fake_scanner(bin_dir: Path, name: str, body: str) -> Path:
    """A real executable on PATH standing in for trivy/grype: the suite runs it as it would them."""
    bin_dir.mkdir(exist_ok=True)
    exe = bin_dir / name
    exe.write_text(f"#!{sys.executable}\nimport json, os, shutil, subprocess, sys, time\n{body}\n")
    exe.chmod(0o755)
    return exe


WRITE_REPORT = """
args = sys.argv[1:]
json.dump(sys.argv, open({argv!r}, "w"))
out = args[args.index({flag!r}) + 1]
shutil.copy({fixture!r}, out)
"""


@pytest.fixture
def bin_dir(tmp_path, monkeypatch):
    d = tmp_path / "bin"
    d.mkdir()
    monkeypatch.setenv("PATH", str(d))
    return d


def test_no_scanner_on_path(bin_dir, tmp_path):
    assert vulns.scanner_command("agent:1.0", tmp_path / "r.json") is None
    with pytest.raises(VulnReportError, match="no scanner on PATH.*trivy image --format json"):
        vulns.run_scanner("agent:1.0", tmp_path / "r.json", 5)


def test_trivy_command_and_run(bin_dir, tmp_path):
    exe = fake_scanner(bin_dir, "trivy", WRITE_REPORT.format(
        argv=str(tmp_path / "argv.json"), flag="--output", fixture=str(FIX / "trivy-critical.json")))
    out = tmp_path / "report.json"
    argv = vulns.scanner_command("agent:1.0", out)
    assert argv == [str(exe), "image", "--image-src", "docker", "--scanners", "vuln", "--format", "json",
                    "--output", str(out), "agent:1.0"]
    report = vulns.run_scanner("agent:1.0", out, 30)
    assert json.loads((tmp_path / "argv.json").read_text()) == argv
    assert report.scanner == "trivy" and len(report.critical) == 2


def test_grype_command_and_run(bin_dir, tmp_path):
    exe = fake_scanner(bin_dir, "grype", WRITE_REPORT.format(
        argv=str(tmp_path / "argv.json"), flag="--file", fixture=str(FIX / "grype-clean.json")))
    out = tmp_path / "report.json"
    argv = vulns.scanner_command("agent:1.0", out)
    assert argv == [str(exe), "docker:agent:1.0", "-o", "json", "--file", str(out)]
    report = vulns.run_scanner("agent:1.0", out, 30)
    assert report.scanner == "grype" and report.critical == ()


def test_trivy_is_preferred_when_both_are_present(bin_dir, tmp_path):
    fake_scanner(bin_dir, "grype", "")
    trivy = fake_scanner(bin_dir, "trivy", "")
    assert vulns.scanner_command("agent:1.0", tmp_path / "r.json")[0] == str(trivy)


def test_scanner_failure_reports_its_last_words(bin_dir, tmp_path):
    fake_scanner(bin_dir, "trivy",
                 'sys.stderr.write("INFO starting\\nFATAL unable to find the image\\n\\n"); sys.exit(1)')
    with pytest.raises(VulnReportError, match=r"^trivy exited with 1: FATAL unable to find the image$"):
        vulns.run_scanner("agent:1.0", tmp_path / "r.json", 30)


def test_a_report_left_by_an_earlier_run_is_not_read(bin_dir, tmp_path):
    out = tmp_path / "r.json"
    out.write_text((FIX / "trivy-clean.json").read_text())
    fake_scanner(bin_dir, "trivy", "sys.exit(0)")  # "succeeds" without writing a report
    with pytest.raises(VulnReportError, match="r.json: cannot read"):
        vulns.run_scanner("agent:1.0", out, 30)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"  # a killed orphan may linger as a zombie until init reaps it


def test_run_scanner_timeout_kills_the_process_group(bin_dir, tmp_path):
    pids = tmp_path / "pids"
    fake_scanner(bin_dir, "trivy", f"""
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
open({str(pids)!r}, "w").write(f"{{os.getpid()}} {{child.pid}}")
time.sleep(60)
""")
    start = time.monotonic()
    with pytest.raises(VulnReportError, match=r"trivy did not finish within 1\.5 s \(killed\)"):
        vulns.run_scanner("agent:1.0", tmp_path / "r.json", 1.5)
    assert time.monotonic() - start < 5
    scanner_pid, child_pid = map(int, pids.read_text().split())
    deadline = time.monotonic() + 3
    while (_alive(scanner_pid) or _alive(child_pid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(scanner_pid) and not _alive(child_pid)


def test_how_to_produce_names_both_scanners_and_quotes_the_ref():
    text = vulns.how_to_produce("registry.example.com/team/agent:1.0")
    assert "trivy image --format json --output trivy.json registry.example.com/team/agent:1.0" in text
    assert "grype registry.example.com/team/agent:1.0 -o json --file grype.json" in text
    assert "'my image'" in vulns.how_to_produce("my image")
    assert "\n" not in text
