"""Whether a run checked every MUST of its profile, and the verdict a certification gives.

Outside a certification a skipped MUST does not fail the run (a `-k READY` run on a laptop is
useful), but the headline names it. Under `--certify` a run that skipped, deselected or never ran
any MUST is `incomplete`: Kubernetes' rule, "a valid certification run may not skip any
conformance tests". A MUST that failed makes the verdict `fail` whatever else was skipped: the
defect is the news.

Reads only report documents (dicts), so `verify` recomputes a bundle's verdict with the same code.
"""

from __future__ import annotations

from typing import Any

from ..contract.catalogue import MUST
from .results import Status

PASS, FAIL, INCOMPLETE = "pass", "fail", "incomplete"
# NO-CRITICAL-VULNS is decided from a scanner's report: without one a certification says so.
SCAN_ID = "NO-CRITICAL-VULNS"
SCAN_NEEDED = ("a certification needs a scanner report: give --vuln-report FILE (Trivy or Grype JSON of this "
               "image) or put trivy or grype on PATH")


def unchecked_musts(requirements: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The MUSTs that were not decided (status `skip`), each with the first line of its reason."""
    return [{"id": r["id"], "reason": (r.get("evidence") or ["no reason given"])[0]}
            for r in requirements if r["level"] == MUST and r["status"] == Status.SKIP]


def verdict(requirements: list[dict[str, Any]], certify: bool) -> str:
    """`fail` when a MUST failed or errored; else, in a certification, `incomplete` when a MUST was
    not checked; else `pass`."""
    if any(r["level"] == MUST and r["status"] in (Status.FAIL, Status.ERROR) for r in requirements):
        return FAIL
    if certify and unchecked_musts(requirements):
        return INCOMPLETE
    return PASS


def apply(report: dict[str, Any], certify: bool) -> dict[str, Any]:
    """The report with its `completeness` section, and its verdict as a certification gives it."""
    unchecked = unchecked_musts(report["requirements"])
    for item in unchecked:
        if item["id"] == SCAN_ID and certify:
            item["reason"] = f"{SCAN_NEEDED} ({item['reason']})"
    report["completeness"] = {"certification": certify, "complete": not unchecked, "unchecked_must": unchecked}
    report["verdict"] = verdict(report["requirements"], certify)
    return report


def headline(report: dict[str, Any]) -> str:
    """What the verdict line adds: which MUSTs were not checked ("" when none)."""
    unchecked = (report.get("completeness") or {}).get("unchecked_must") or []
    if not unchecked:
        return ""
    ids = ", ".join(u["id"] for u in unchecked)
    if report["verdict"] == INCOMPLETE:
        return f" — incomplete certification, MUST not checked: {ids}"
    return f" — MUST not checked: {ids}"
