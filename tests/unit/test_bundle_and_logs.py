"""The certification bundle's pure parts: the directory it may use, log names and normalisation,
SHA256SUMS."""

from __future__ import annotations

import hashlib
import subprocess

import pytest

from conformance.candidate import logs
from conformance.errors import BundleError
from conformance.report import bundle


def test_prepare_creates_a_new_directory(tmp_path):
    target = bundle.prepare(tmp_path / "a" / "bundle")
    assert (target / bundle.LOGS).is_dir()


def test_prepare_empties_an_earlier_bundle_only(tmp_path):
    (tmp_path / "report.json").write_text("{}")
    (tmp_path / bundle.SUMS).write_text("x  report.json\n")
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "shared.log").write_text("old")
    bundle.prepare(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["logs"] and not any((tmp_path / "logs").iterdir())


@pytest.mark.parametrize("foreign", ["notes.txt", "src"])
def test_prepare_refuses_a_directory_holding_anything_else(tmp_path, foreign):
    (tmp_path / "report.json").write_text("{}")
    (tmp_path / foreign).mkdir() if foreign == "src" else (tmp_path / foreign).write_text("mine")
    with pytest.raises(BundleError, match=rf"not empty and not an earlier bundle \(holds '{foreign}'\)"):
        bundle.prepare(tmp_path)
    assert (tmp_path / "report.json").exists()  # nothing deleted


def test_prepare_refuses_a_file(tmp_path):
    (tmp_path / "f").write_text("")
    with pytest.raises(BundleError, match="is not a directory"):
        bundle.prepare(tmp_path / "f")


@pytest.mark.parametrize("role, check, worker, name", [
    ("shared", "", None, "shared"),
    ("shared", "", "gw1", "shared.gw1"),
    ("restart", "test_restart_keeps_answers", "gw0", "test_restart_keeps_answers--restart"),
    ("shared", "test_x[POST /chat-text/event-stream]", None, "test_x_POST_chat-text_event-stream--shared"),
])
def test_log_names_come_from_role_and_check_never_from_the_run(role, check, worker, name):
    assert logs.log_name(role, check, worker) == name


def test_normalise_log_replaces_only_what_the_run_assigned():
    cid = "9fd38cd4ceb756c44756391829e6c39d2cdd47ddfca52511eb42c3c20b264a27"
    text = (f"host {cid[:12]} up\nINFO: 172.17.0.1:54321 - \"GET /ready\" 200\nINFO: [::1]:40000 - x\n"
            "listening on 0.0.0.0:8080 and 127.0.0.1:8000 (pid 7)\nname agent-conformance-1a2b3c4d-shared-77-1\n")
    out = logs.normalise_log(text, cid, "agent-conformance-1a2b3c4d-shared-77-1")
    assert out == ("host <container-id> up\nINFO: 172.17.0.1:<port> - \"GET /ready\" 200\nINFO: [::1]:<port> - x\n"
                   "listening on 0.0.0.0:8080 and 127.0.0.1:8000 (pid 7)\nname <container-name>\n")


def test_sha256sums_is_sorted_sha256sum_format_and_verifies(tmp_path):
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "b.log").write_text("b")
    (tmp_path / "report.json").write_text("{}")
    sums = bundle.sha256sums(tmp_path)
    assert sums == (f"{hashlib.sha256(b'b').hexdigest()}  logs/b.log\n"
                    f"{hashlib.sha256(b'{}').hexdigest()}  report.json\n")
    (tmp_path / bundle.SUMS).write_text(sums)
    assert bundle.verify(tmp_path) == []
    assert subprocess.run(["sha256sum", "-c", "--quiet", bundle.SUMS], cwd=tmp_path).returncode == 0
    (tmp_path / "report.json").write_text("{ }")
    (tmp_path / "extra").write_text("")
    assert bundle.verify(tmp_path) == ["not listed: extra", "changed: report.json"]
