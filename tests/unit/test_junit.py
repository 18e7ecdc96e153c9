"""junit.xml from per-check results: one case per check with its requirement ID and level, one per
requirement no check decided, ordered by the catalogue, well-formed whatever the evidence holds."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from conformance.contract.catalogue import IDS
from conformance.report import document, junit
from conformance.report.results import CheckResult, aggregate

TS = "2026-01-02T03:04:05Z"


def build(checks: list[CheckResult]) -> tuple[dict, ET.Element]:
    report = document.build("agent:1", None, aggregate(checks, {c.requirement_id for c in checks}), 1.5)
    text = junit.render(report, checks, TS)
    assert text.startswith('<?xml version="1.0" encoding="utf-8"?>\n')
    return report, ET.fromstring(text.split("\n", 1)[1])


def props(case: ET.Element) -> dict[str, str]:
    return {p.get("name"): p.get("value") for p in case.find("properties")}


CHECKS = [
    CheckResult("test_health_answers_200", "HEALTH-200", "fail",
                ("GET /health answered 204, not 200", "sent: curl …"), 0.012, "conformance/suite/test_probes.py::test_health_answers_200"),
    CheckResult("test_image_is_linux_amd64", "IMAGE-PLATFORM", "pass", ("image config: os='linux'",), 0.001,
                "test_image.py::test_image_is_linux_amd64"),
    CheckResult("test_ready_is_json", "READY-JSON", "error", ("not checked: … (see READY-200)",), 0.0,
                "test_probes.py::test_ready_is_json"),
    CheckResult("test_no_critical_vulnerability", "NO-CRITICAL-VULNS", "skip", ("no vulnerability report: …",), 0.0,
                "test_vulns.py::test_no_critical_vulnerability"),
]


def test_every_requirement_appears_in_catalogue_order_with_id_and_level():
    report, root = build(CHECKS)
    cases = root.find("testsuite").findall("testcase")
    assert [props(c)["requirement"] for c in cases] == list(IDS)  # one check each here; the rest synthetic
    levels = {r["id"]: r["level"] for r in report["requirements"]}
    assert all(props(c)["level"] == levels[props(c)["requirement"]] for c in cases)


def test_statuses_map_to_junit_elements():
    _, root = build(CHECKS)
    by_id = {props(c)["requirement"]: c for c in root.iter("testcase")}
    failure = by_id["HEALTH-200"].find("failure")
    assert failure.get("message") == "HEALTH-200: GET /health answered 204, not 200"
    assert failure.text == "GET /health answered 204, not 200\nsent: curl …"
    assert by_id["READY-JSON"].find("error") is not None
    assert by_id["NO-CRITICAL-VULNS"].find("skipped").get("message").startswith("NO-CRITICAL-VULNS: no vulnerability")
    assert by_id["IMAGE-PLATFORM"].find("system-out").text == "image config: os='linux'"
    # A requirement without a check is a synthetic case saying why.
    assert by_id["STAYS-UP"].get("classname") == "conformance.requirements"
    assert by_id["STAYS-UP"].find("skipped") is not None


def test_classname_does_not_depend_on_the_rootdir():
    _, root = build(CHECKS)
    by_id = {props(c)["requirement"]: c for c in root.iter("testcase")}
    assert by_id["HEALTH-200"].get("classname") == "conformance.suite.test_probes"
    assert by_id["IMAGE-PLATFORM"].get("classname") == "conformance.suite.test_image"
    assert by_id["HEALTH-200"].get("time") == "0.012"


def test_totals_and_run_properties():
    _, root = build(CHECKS)
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == (str(len(IDS)), "1", "1")
    assert suite.get("timestamp") == TS and suite.get("time") == "1.500"
    run = {p.get("name"): p.get("value") for p in suite.find("properties")}
    assert run["image.ref"] == "agent:1" and run["verdict"] == "fail" and run["suite.version"]


def test_phases_of_one_check_are_one_case():
    nodeid = "test_lifecycle.py::test_restart"
    checks = [CheckResult("test_restart", "STATELESS-RESTART", "fail", ("restarted: 500",), 1.0, nodeid),
              CheckResult("test_restart", "STATELESS-RESTART", "error", ("teardown: boom",), 0.5, nodeid)]
    _, root = build(checks)
    cases = [c for c in root.iter("testcase") if props(c)["requirement"] == "STATELESS-RESTART"]
    assert len(cases) == 1 and cases[0].get("time") == "1.500"
    assert cases[0].find("failure").text == "restarted: 500\nteardown: boom"


def test_control_characters_from_logs_stay_well_formed():
    tail = ("log tail:", "  | \x1b[31mERROR\x1b[0m \x00 done")
    checks = [CheckResult("t", "STARTUP-TIME", "fail", tail, 0, "t.py::t")]
    _, root = build(checks)  # parses
    text = next(c for c in root.iter("testcase") if props(c)["requirement"] == "STARTUP-TIME").find("failure").text
    assert "\\x1b[31mERROR\\x1b[0m \\x00 done" in text
