"""The certification's pure rules: completeness and the incomplete verdict, the expected-failures
gate and the exit status, the diff of two runs, the suite's identity, digest-pinned image
references and the agent config's [product]."""

from __future__ import annotations

import subprocess

import pytest

from conformance import certification
from conformance.contract.agent_config import parse_config
from conformance.errors import ConfigError
from conformance.image.reference import mismatch, split_digest
from conformance.report import completeness, diff, expectations, identity, terminal
from tests.unit.certified import IMAGE, IMAGE_ID


def _row(rid, status, level="MUST", evidence=("x",)):
    return {"id": rid, "level": level, "title": rid, "status": status, "evidence": list(evidence)}


def _report(*rows, verdict="pass"):
    return {"verdict": verdict, "requirements": list(rows), "image": {"ref": "a", "id": "sha256:1"},
            "suite": {"version": "0.1.0"}, "profile": {"name": "oci-hosted", "version": "2026-11-30"}}


# -- completeness ----------------------------------------------------------------------------------


def test_a_certification_with_a_must_not_checked_is_incomplete_and_says_which():
    report = completeness.apply(_report(_row("READY-200", "pass"), _row("NO-CRITICAL-VULNS", "skip", evidence=(
        "no scanner: run `trivy image …`",)), _row("IMAGE-EXPOSE-8080", "skip", "SHOULD")), certify=True)
    assert report["verdict"] == "incomplete"
    assert report["completeness"]["unchecked_must"] == [{"id": "NO-CRITICAL-VULNS", "reason": (
        f"{completeness.SCAN_NEEDED} (no scanner: run `trivy image …`)")}]
    assert terminal.verdict_line(report).endswith(" — incomplete certification, MUST not checked: NO-CRITICAL-VULNS")
    assert certification.exit_status(report) == 1


def test_outside_certification_the_headline_names_the_musts_not_checked():
    report = completeness.apply(_report(_row("READY-200", "pass"), _row("HEALTH-200", "skip")), certify=False)
    assert report["verdict"] == "pass" and certification.exit_status(report) == 0
    assert terminal.verdict_line(report) == "Verdict: PASS (1 pass, 1 skip) — MUST not checked: HEALTH-200"


def test_a_failed_must_is_fail_whatever_else_was_skipped():
    rows = [_row("READY-200", "fail"), _row("HEALTH-200", "skip")]
    assert completeness.verdict(rows, certify=True) == "fail"
    assert completeness.verdict([_row("READY-200", "error")], certify=True) == "fail"
    assert completeness.verdict([_row("READY-200", "pass"), _row("X", "fail", "SHOULD")], certify=True) == "pass"


# -- the expected-failures gate --------------------------------------------------------------------


KNOWN = {"READY-200", "HEALTH-200", "IMAGE-EXPOSE-8080", "GRACEFUL-SHUTDOWN", "STARTUP-TIME"}


def test_the_file_lists_ids_with_comments_and_refuses_what_is_not_one(tmp_path):
    listed = expectations.parse("# known\nIMAGE-EXPOSE-8080   # base image\n\nGRACEFUL-SHUTDOWN\n", "x.txt", KNOWN)
    assert listed.ids == ("IMAGE-EXPOSE-8080", "GRACEFUL-SHUTDOWN")
    with pytest.raises(ConfigError, match=r"^x.txt:2: 'READY-2OO' is not a requirement ID of this run's profile"):
        expectations.parse("READY-200\nREADY-2OO\n", "x.txt", KNOWN)
    with pytest.raises(ConfigError, match=r"^x.txt:2: READY-200 is listed twice$"):
        expectations.parse("READY-200\nREADY-200\n", "x.txt", KNOWN)
    with pytest.raises(ConfigError, match="cannot be read"):
        expectations.load(tmp_path / "absent.txt", KNOWN)


def test_listed_failures_pass_the_gate_and_an_unlisted_or_stale_one_fails_it():
    listed = expectations.Expected("x.txt", ("IMAGE-EXPOSE-8080", "GRACEFUL-SHUTDOWN", "STARTUP-TIME"))
    rows = [_row("READY-200", "pass"), _row("IMAGE-EXPOSE-8080", "fail", "SHOULD"),
            _row("GRACEFUL-SHUTDOWN", "error", "SHOULD"), _row("STARTUP-TIME", "skip", "SHOULD")]
    report = _report(*rows)
    report["expected_failures"] = expectations.judge(report, listed)
    assert report["expected_failures"]["passed"] and certification.exit_status(report) == 0
    assert report["expected_failures"]["not_checked"] == ["STARTUP-TIME"]
    # A MUST listed as expected does not fail the run either: the gate, not the verdict, decides.
    failing_must = _report(_row("READY-200", "fail"), verdict="fail")
    failing_must["expected_failures"] = expectations.judge(failing_must, expectations.Expected("x", ("READY-200",)))
    assert certification.exit_status(failing_must) == 0
    new = _report(*rows, _row("HEALTH-200", "fail"))
    new["expected_failures"] = expectations.judge(new, listed)
    assert new["expected_failures"]["unexpected"] == ["HEALTH-200"] and certification.exit_status(new) == 1
    stale = _report(_row("IMAGE-EXPOSE-8080", "pass", "SHOULD"))
    stale["expected_failures"] = expectations.judge(stale, listed)
    assert stale["expected_failures"]["stale"] == ["IMAGE-EXPOSE-8080"] and certification.exit_status(stale) == 1
    assert expectations.gate_lines(stale)[1] == ("  stale (listed, now passes: remove it from the file): "
                                                 "IMAGE-EXPOSE-8080")


def test_an_incomplete_certification_is_not_excused_by_the_gate():
    report = _report(_row("READY-200", "skip"), verdict="incomplete")
    report["expected_failures"] = expectations.judge(report, expectations.Expected("x", ()))
    assert report["expected_failures"]["passed"] and certification.exit_status(report) == 1


# -- diff ------------------------------------------------------------------------------------------


def test_diff_names_status_changes_and_real_evidence_changes_not_figures():
    a = _report(_row("READY-200", "pass", evidence=("ready in 120 ms", "GET /ready → 200")),
                _row("HEALTH-200", "pass", evidence=("took 3 ms",)))
    b = _report(_row("READY-200", "fail", evidence=("ready in 98 ms", "GET /ready → 307")),
                _row("HEALTH-200", "pass", evidence=("took 5 ms",)), verdict="fail")
    lines, differ = diff.diff(a, b)
    assert differ
    assert lines[3] == "verdict: pass → fail"
    assert lines[4:] == ["READY-200: pass → fail", "    - GET /ready → 200", "    + GET /ready → 307",
                         "    (1 line differs only in measured figures)",
                         "1 requirement changed; statuses differ"]
    same, differ = diff.diff(a, a)
    assert not differ and same[-1] == "0 requirements changed; same statuses"


def test_diff_reads_bundles_and_reports_and_refuses_anything_else(tmp_path):
    (tmp_path / "r.json").write_text('{"requirements": []}')
    assert diff.load(tmp_path / "r.json") == {"requirements": []}
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "report.json").write_text('{"requirements": [], "verdict": "pass"}')
    assert diff.load(tmp_path / "b")["verdict"] == "pass"
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(diff.Unreadable, match="not JSON"):
        diff.load(tmp_path / "bad.json")
    with pytest.raises(diff.Unreadable, match="not a conformance report"):
        (tmp_path / "other.json").write_text("[]")
        diff.load(tmp_path / "other.json")


# -- identity --------------------------------------------------------------------------------------


def test_the_suite_digest_is_the_documented_shell_pipeline():
    digest, files = identity.tree_sha256()
    pipeline = ("find . -type f ! -path '*/__pycache__/*' | sed 's|^./||' | LC_ALL=C sort | xargs sha256sum "
                "| sha256sum")
    shell = subprocess.run(["sh", "-c", pipeline], cwd=identity.PACKAGE_DIR, capture_output=True, text=True, timeout=60)
    assert shell.stdout.split()[0] == digest and files > 50


def test_identity_names_suite_profile_config_runtime_and_product(tmp_path):
    config = tmp_path / "agent.toml"
    config.write_text('[product]\nvendor = "Acme"\nproduct = "Helper"\nversion = "2.1"\ncontact = "ops@acme.test"\n')
    ident = identity.collect("oci-hosted", "profile text", {"source": str(config)}, {"vendor": "Acme"})
    assert ident["profile"]["sha256"] == identity.sha256_bytes(b"profile text")
    assert ident["agent_config"]["sha256"] == identity.sha256_bytes(config.read_bytes())
    assert set(ident["runtime"]) == {"python", "pytest", "hypothesis"} and all(ident["runtime"].values())
    assert ident["suite"]["sha256"] == identity.tree_sha256()[0] and ident["product"] == {"vendor": "Acme"}
    # From the command line: the config as used, canonical, so two spellings of it do not differ.
    assert (identity.config_sha256("command line", {"a": 1, "b": 2})
            == identity.config_sha256("command line", {"b": 2, "a": 1}))


def test_product_table_in_the_agent_config():
    config = parse_config({"product": {"vendor": "Acme", "product": "Helper", "version": "2.1"}}, "agent.toml")
    assert config.as_dict()["product"] == {"vendor": "Acme", "product": "Helper", "version": "2.1"}
    assert "product" not in parse_config({}, "agent.toml").as_dict()
    with pytest.raises(ConfigError, match=r"agent.toml: product: unknown key 'email'; expected vendor, product"):
        parse_config({"product": {"email": "x"}}, "agent.toml")
    with pytest.raises(ConfigError, match=r"agent.toml: product.version: expected a non-empty string, got 2"):
        parse_config({"product": {"version": 2}}, "agent.toml")


# -- IMAGE@sha256:… --------------------------------------------------------------------------------


def test_a_digest_reference_must_name_the_image():
    assert split_digest("agent@" + IMAGE_ID) == ("agent", IMAGE_ID)
    assert split_digest("agent:v1") is None and split_digest("agent@sha256:12") is None
    assert mismatch("agent:v1", IMAGE) is None
    assert mismatch("agent@" + IMAGE_ID, IMAGE) is None  # the config digest (a local build)
    assert mismatch("registry.example/agent@sha256:" + "b" * 64, IMAGE) is None  # a repo digest
    wrong = mismatch("agent@sha256:" + "e" * 64, IMAGE)
    assert wrong.startswith(f"image 'agent@sha256:{'e' * 64}': the engine's agent is {IMAGE_ID}, ")
    assert wrong.endswith(f"not sha256:{'e' * 64}: the image changed since its digest was taken; check the image "
                          "you meant")
