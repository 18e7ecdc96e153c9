"""NO-CRITICAL-VULNS, decided from a scanner's report: no container needed.

The platform scans the image before deployment and refuses any CRITICAL vulnerability. The suite
cannot reach a vulnerability database, so it reads the Trivy or Grype JSON report given with
`--vuln-report` (already parsed: a malformed one was refused before the run), or runs trivy or
grype if one is on PATH, or skips saying how to produce a report. A report of another image is
refused: it says nothing about this one.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from conformance.check import fail
from conformance.errors import VulnReportError
from conformance.image import vulns
from conformance.report.bundle import VULN_REPORT

_SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "NEGLIGIBLE", "UNKNOWN")


def _obtain(run_state, image_info, pytestconfig, tmp_path_factory) -> tuple[vulns.ScanReport, str]:
    """(report, where it comes from), or skip when there is no report and no scanner."""
    given = pytestconfig.getoption("vuln_report")
    if given:
        return run_state.vuln_report, given
    if vulns.scanner_command(image_info.ref, Path("report.json")) is None:
        pytest.skip(vulns.how_to_produce(image_info.ref))
    # In a certification bundle the scanner's own report is kept beside the verdict.
    bundle = run_state.bundle
    out = bundle / VULN_REPORT if bundle else tmp_path_factory.mktemp("scan") / "report.json"
    report = vulns.run_scanner(image_info.ref, out, pytestconfig.getoption("scan_timeout"))
    return report, f"{report.scanner} found on PATH, run on {image_info.ref}"


@pytest.mark.requirement("NO-CRITICAL-VULNS")
def test_no_critical_vulnerability(run_state, image_info, pytestconfig, tmp_path_factory, evidence):
    report, source = _obtain(run_state, image_info, pytestconfig, tmp_path_factory)
    scanner = f"{report.scanner} {report.scanner_version}".strip()
    mismatch = vulns.check_matches_image(report, image_info.id, list(image_info.repo_digests))
    if mismatch:
        evidence.append(f"report names: {', '.join((*report.image_ids, *report.repo_digests))}")
        evidence.append(f"candidate: {image_info.ref} = {image_info.id}"
                        + (f", {', '.join(image_info.repo_digests)}" if image_info.repo_digests else ""))
        raise VulnReportError(f"{source}: {mismatch}: scan this image and pass that report")
    evidence.append(f"report: {source} ({scanner})")
    if not report.image_ids and not report.repo_digests:
        evidence.append("the report names no image digest: it could not be matched to this image")
    count = Counter(f.severity for f in report.findings)
    tally = ", ".join(f"{count[s]} {s}" for s in _SEVERITIES if count[s]) or "none"
    evidence.append(f"{len(report.findings)} vulnerabilities: {tally}")
    critical = sorted({vulns.describe_finding(f) for f in report.critical})
    if critical:
        fail(f"{len(critical)} CRITICAL vulnerabilit{'y' if len(critical) == 1 else 'ies'}: the platform's scan "
             "refuses to deploy this image", critical)
