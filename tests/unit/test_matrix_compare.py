"""`agent-conformance matrix`: the comparison of a run with a sample's expected.toml."""

from __future__ import annotations

from conformance.contract.catalogue import IDS
from conformance.report.results import NOT_IMPLEMENTED
from samplekit.matrix import compare
from samplekit.samples import Expected

IMPLEMENTED = set(IDS) - {"STAYS-UP"}


def report(verdict: str, **statuses: str) -> dict:
    rows = [{"id": i, "status": statuses.get(i.replace("-", "_"), "pass" if i in IMPLEMENTED else "skip"),
             "evidence": [] if i in IMPLEMENTED else [NOT_IMPLEMENTED]} for i in IDS]
    return {"verdict": verdict, "requirements": rows}


def test_a_match_has_no_problem():
    expected = Expected("fail", frozenset({"HEALTH-200"}), frozenset({"STAYS-UP", "READY-JSON"}))
    run = report("fail", HEALTH_200="fail", READY_JSON="error", NO_CRITICAL_VULNS="skip")
    assert compare(expected, run, 1) == []  # STAYS-UP has no check: it cannot error


def test_every_difference_is_named():
    expected = Expected("fail", frozenset({"HEALTH-200"}), frozenset(), frozenset({"READY-200"}))
    run = report("pass", READY_200="skip", HEALTH_JSON="fail")
    assert compare(expected, run, 0) == [
        "fail: expected HEALTH-200, got HEALTH-JSON",
        "expected to pass: READY-200 (skip)",
        "verdict: expected fail, got pass",
        "exit status: expected 1, got 0",
    ]


def test_a_conformant_sample_must_pass_every_implemented_requirement_but_the_scan():
    expected = Expected("pass", frozenset(), frozenset())
    assert compare(expected, report("pass", NO_CRITICAL_VULNS="skip"), 0) == []
    assert compare(expected, report("pass", ROBUST_INPUT="skip"), 0) == [
        "conformant, yet not pass: ROBUST-INPUT (skip)"]


def test_no_report():
    assert compare(Expected("pass", frozenset(), frozenset()), None, 2) == ["no report written (exit 2)"]
