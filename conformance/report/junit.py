"""JUnit XML for CI dashboards, built on the controller from the per-check results.

pytest's own `--junitxml` cannot carry run-level properties under pytest-xdist
(`record_testsuite_property` breaks there) and knows nothing of requirement IDs; this file does:
one <testcase> per check with its requirement ID and level as <property>s, and one synthetic
<testcase> per requirement that no check decided (not implemented, not selected, run error), so a
dashboard lists every ID. Content is ordered by the catalogue, then by check: two runs of the same
image differ only in `timestamp` and `time`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from .results import SEVERITY, CheckResult, Status

_ELEMENT = {Status.FAIL: "failure", Status.ERROR: "error", Status.SKIP: "skipped"}
# XML 1.0 forbids most control characters (container logs carry ANSI escapes): show them escaped.
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def _text(value: str) -> str:
    return _INVALID_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", value)


def classname(nodeid: str) -> str:
    """`conformance.suite.test_image` whatever the rootdir made of the node ID's path."""
    module = Path(nodeid.split("::", 1)[0]).stem if "::" in nodeid else "unknown"
    return f"conformance.suite.{module}"


def _cases(report: dict[str, Any], checks: list[CheckResult]) -> list[dict[str, Any]]:
    """One case per check (its phases merged: a call failure and a teardown error are one case),
    in catalogue order, then in the order given; plus one per requirement without a check."""
    levels = {r["id"]: r for r in report["requirements"]}
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for check in checks:
        key = (check.requirement_id, check.nodeid or check.check)
        case = merged.setdefault(key, {"id": check.requirement_id, "name": check.check,
                                       "classname": classname(check.nodeid), "status": check.status,
                                       "evidence": [], "time": 0.0})
        if SEVERITY[check.status] > SEVERITY[case["status"]]:
            case["status"] = check.status
        case["evidence"] += [line for line in check.evidence if line not in case["evidence"]]
        case["time"] += check.duration_s
    cases = list(merged.values())
    decided = {c["id"] for c in cases}
    for r in report["requirements"]:
        if r["id"] not in decided:
            cases.append({"id": r["id"], "name": r["id"], "classname": "conformance.requirements",
                          "status": r["status"], "evidence": list(r["evidence"]), "time": 0.0})
    order = {rid: i for i, rid in enumerate(levels)}
    cases.sort(key=lambda c: order.get(c["id"], len(order)))  # stable: the checks' order is kept
    for case in cases:
        case["level"] = levels[case["id"]]["level"] if case["id"] in levels else ""
    return cases


def render(report: dict[str, Any], checks: list[CheckResult], timestamp: str) -> str:
    cases = _cases(report, checks)
    count = {s: sum(1 for c in cases if c["status"] == s) for s in SEVERITY}
    totals = {"tests": str(len(cases)), "failures": str(count[Status.FAIL]), "errors": str(count[Status.ERROR]),
              "skipped": str(count[Status.SKIP]), "time": f"{report.get('duration_s', 0.0):.3f}"}
    root = ET.Element("testsuites", {"name": report["suite"]["name"], **totals})
    suite = ET.SubElement(root, "testsuite", {"name": report["suite"]["name"], **totals, "timestamp": timestamp})
    props = ET.SubElement(suite, "properties")
    image = report["image"]
    contract = report.get("profile") or {}
    for name, value in (("suite.version", report["suite"]["version"]), ("image.ref", image["ref"]),
                        ("image.id", image["id"]), ("profile", contract.get("name", "")),
                        ("profile.version", contract.get("version", "")), ("verdict", report["verdict"])):
        ET.SubElement(props, "property", {"name": name, "value": _text(str(value))})
    unchecked = (report.get("completeness") or {}).get("unchecked_must") or []
    if unchecked:  # why a certification is incomplete, where a CI dashboard shows it
        ET.SubElement(props, "property", {"name": "unchecked_must", "value": _text(
            "; ".join(f"{u['id']}: {u['reason']}" for u in unchecked))})
    for case in cases:
        element = ET.SubElement(suite, "testcase", {"classname": case["classname"], "name": _text(case["name"]),
                                                    "time": f"{case['time']:.3f}"})
        case_props = ET.SubElement(element, "properties")
        ET.SubElement(case_props, "property", {"name": "requirement", "value": case["id"]})
        ET.SubElement(case_props, "property", {"name": "level", "value": case["level"]})
        evidence = "\n".join(_text(line) for line in case["evidence"])
        first = _text(case["evidence"][0]) if case["evidence"] else case["status"]
        if case["status"] in _ELEMENT:
            outcome = ET.SubElement(element, _ELEMENT[case["status"]], {"message": f"{case['id']}: {first}"})
            if case["status"] != Status.SKIP:
                outcome.text = evidence
        elif evidence:
            ET.SubElement(element, "system-out").text = evidence
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
