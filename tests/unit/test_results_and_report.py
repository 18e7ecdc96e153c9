"""Aggregation per requirement ID, the verdict, and the report formats."""

import json

import pytest

from conformance.contract import catalogue as requirements
from conformance.image.config import from_attrs
from conformance.report import document, markdown, terminal
from conformance.report.results import NOT_IMPLEMENTED, CheckResult, aggregate, verdict

IMAGE = from_attrs("agent:v1", {"Id": "sha256:abc", "Os": "linux", "Architecture": "amd64", "Config": {}})


def by_id(results):
    return {r.id: r for r in results}


@pytest.mark.parametrize(
    "statuses, expected",
    [
        (["pass", "fail", "error"], "fail"),
        (["pass", "error", "skip"], "error"),
        (["pass", "skip"], "pass"),
        (["skip", "skip"], "skip"),
        (["error", "fail"], "fail"),
    ],
)
def test_fail_over_error_over_pass_skip_only_when_all_skipped(statuses, expected):
    checks = [CheckResult(f"c{i}", "HEALTH-200", s, (f"line {i}",)) for i, s in enumerate(statuses)]
    result = by_id(aggregate(checks, {"HEALTH-200"}))["HEALTH-200"]
    assert result.status == expected
    # With several checks, each line says which check and how it ended; the deciding one first.
    assert result.evidence[0].startswith(f"[{expected}]")


def test_every_id_exactly_once_in_catalogue_order():
    results = aggregate([CheckResult("c", "READY-200", "pass")], {"READY-200"})
    assert [r.id for r in results] == list(requirements.IDS)


def test_missing_ids_are_skip_with_the_reason_never_pass():
    results = by_id(aggregate([], {"READY-200"}))
    assert results["READY-200"].status == "skip" and "not selected" in results["READY-200"].evidence[0]
    assert results["ROBUST-INPUT"].status == "skip" and results["ROBUST-INPUT"].evidence == [NOT_IMPLEMENTED]


def test_run_error_makes_every_unchecked_id_error_with_the_cause():
    results = aggregate([], set(requirements.IDS), run_error="image 'x' is not in the local Docker engine")
    assert {r.status for r in results} == {"error"}
    assert all("not in the local Docker engine" in r.evidence[0] for r in results)


def test_interrupted_run():
    results = by_id(aggregate([CheckResult("c", "IMAGE-PLATFORM", "pass")], set(requirements.IDS), interrupted=True))
    assert results["IMAGE-PLATFORM"].status == "pass"
    assert results["READY-200"].status == "error" and "interrupted" in results["READY-200"].evidence[0]


def test_verdict_fails_on_must_fail_or_error_only():
    ok = aggregate([CheckResult("c", "IMAGE-EXPOSE-8080", "fail"), CheckResult("d", "STARTUP-TIME", "error")], set())
    assert verdict(ok) == "pass"  # SHOULD failures and errors do not fail the verdict
    assert verdict(aggregate([CheckResult("c", "READY-200", "error")], set())) == "fail"
    assert verdict(aggregate([CheckResult("c", "READY-200", "fail")], set())) == "fail"


def sample_report():
    checks = [
        CheckResult("test_ready", "READY-200", "fail", ("GET /ready answered 307, not 200", "sent: curl …")),
        CheckResult("test_health", "HEALTH-200", "pass", ("GET /health → 200",)),
    ]
    return document.build("agent:v1", IMAGE, aggregate(checks, {"READY-200", "HEALTH-200"}), 1.23456)


def test_json_report_has_exactly_the_documented_shape(tmp_path):
    path = tmp_path / "out" / "r.json"
    document.write_json(path, sample_report())
    data = json.loads(path.read_text())
    assert set(data) == {"suite", "image", "profile", "engine", "verdict", "duration_s", "requirements", "setup",
                         "endpoint_calls", "measurements"}
    assert data["suite"] == {"name": "agent-conformance", "version": "0.1.0"}
    assert data["image"] == {"ref": "agent:v1", "id": "sha256:abc", "os": "linux", "architecture": "amd64"}
    assert data["verdict"] == "fail" and data["duration_s"] == 1.235
    assert [r["id"] for r in data["requirements"]] == list(requirements.IDS)
    for row in data["requirements"]:
        assert set(row) == {"id", "level", "title", "fix", "status", "cause", "evidence"}
        assert row["status"] in ("pass", "fail", "error", "skip")
        assert all(isinstance(line, str) for line in row["evidence"])


def test_report_without_image():
    data = document.build("absent:v1", None, aggregate([], set(), run_error="no daemon"), 0)
    assert data["image"] == {"ref": "absent:v1", "id": "", "os": "", "architecture": ""}
    assert data["verdict"] == "fail"


def test_markdown_verdict_first_then_table_then_failures_with_fix():
    text = markdown.render_markdown(sample_report())
    lines = text.splitlines()
    assert lines[0] == "# Conformance report: `agent:v1`"
    assert lines[2].startswith("**Verdict: FAIL") and "READY-200" in lines[2]
    table = [line for line in lines if line.startswith("| ") and "---" not in line][1:]
    assert [row.split(" | ")[0][2:] for row in table] == list(requirements.IDS)
    failure = text.index("### READY-200 (MUST) — fail")
    assert text.index("GET /ready answered 307", failure) < text.index("**How to fix:**", failure)
    assert "Serve `GET /ready` at exactly that path (no redirect to /ready/)" in text  # the fix, in the profile's words
    assert "## Skipped" in text and "- ROBUST-INPUT: not implemented" in text


def test_terminal_table_one_row_per_requirement():
    lines = terminal.render_terminal(sample_report())
    assert lines[0].startswith("Verdict: FAIL")
    assert len(lines) == 1 + len(requirements.IDS)
    assert "READY-200" in lines[8] and "FAIL" in lines[8]


def test_an_errors_cause_is_the_root_of_its_chain():
    checks = [
        CheckResult("a", "IMAGE-PLATFORM", "fail", ("the image is linux/amd64",)),
        CheckResult("b", "READY-200", "error", ("not checked: it cannot be started (see IMAGE-PLATFORM)",)),
        CheckResult("c", "READY-JSON", "error", ("not checked: no answer to judge (see READY-200)",)),
        CheckResult("d", "HEALTH-200", "error", ("not checked: the check could not run (call): KeyError",)),
        CheckResult("e", "HEALTH-JSON", "error", ("not checked (see HEALTH-JSON)",)),  # names itself: no cause
    ]
    results = by_id(aggregate(checks, {c.requirement_id for c in checks}))
    assert results["READY-200"].cause == "IMAGE-PLATFORM"
    assert results["READY-JSON"].cause == "IMAGE-PLATFORM"  # through READY-200, to the root
    assert results["HEALTH-200"].cause == "" and results["HEALTH-JSON"].cause == ""
    assert results["IMAGE-PLATFORM"].cause == ""  # a failure is its own cause


def test_the_headline_names_causes_and_counts_their_knock_ons():
    checks = [
        CheckResult("a", "IMAGE-PLATFORM", "fail", ("the image is linux/arm64",)),
        CheckResult("b", "READY-200", "error", ("not checked (see IMAGE-PLATFORM)",)),
        CheckResult("c", "HEALTH-200", "error", ("not checked (see IMAGE-PLATFORM)",)),
        CheckResult("d", "STARTUP-TIME", "error", ("not checked (see IMAGE-PLATFORM)",)),  # a SHOULD: not counted
    ]
    report = document.build("agent:v1", None, aggregate(checks, {c.requirement_id for c in checks}), 1.0)
    assert terminal.verdict_line(report).endswith(
        "— MUST not met: IMAGE-PLATFORM; and 2 MUSTs not checked because of IMAGE-PLATFORM")
    exited = [CheckResult("a", "STARTUP-TIME", "fail", ("exited with code 1",)),
              CheckResult("b", "READY-200", "error", ("not checked (see STARTUP-TIME)",))]
    report = document.build("agent:v1", None, aggregate(exited, {c.requirement_id for c in exited}), 1.0)
    assert terminal.verdict_line(report).endswith("— 1 MUST not checked because of STARTUP-TIME (SHOULD)")


def test_the_engine_line_speaks_of_emulation_only_where_a_candidate_ran():
    engine = {"kind": "Docker", "version": "27", "emulated": "linux/arm64 candidates run under emulation"}
    report = document.build("agent:v1", None, aggregate([], set()), 1.0, engine=engine)
    assert "emulation" not in terminal.engine_line(report)
    measured = {"startups": [{"candidate": "shared"}], "streams": [], "probes": [], "fuzz": []}
    report = document.build("agent:v1", None, aggregate([], set()), 1.0, measured, engine=engine)
    assert "emulation" in terminal.engine_line(report)
