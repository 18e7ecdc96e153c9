"""`agent-conformance batch` on stand-in runs (a script in place of the suite's command): several
at once, each image's crash, hang or error ending that image only, its process group gone after,
the engine asked to remove what the run left, a record of every run, and resumption."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import textwrap
import time
from pathlib import Path

import pytest

from conformance.fleet import batch, plan, runner
from conformance.fleet.plan import Entry

# Stands in for `agent-conformance IMAGE --certify DIR …`: what it does depends on the image's name.
FAKE_RUN = textwrap.dedent('''
    import hashlib, os, signal, subprocess, sys, time
    from pathlib import Path
    sys.path.insert(0, os.environ["REPO"])
    from tests.unit.fleet_bundles import make_bundle
    ref, directory = sys.argv[1], Path(sys.argv[sys.argv.index("--certify") + 1])
    pids = Path(os.environ["FAKE_PIDS"])
    kind = ref.split(":")[0]
    def write(verdict):
        make_bundle(directory, ref, {"pass": {}, "fail": {"READY-200": "fail"}, "incomplete": {"NO-CRITICAL-VULNS": "skip"}}[verdict],
                    image_id="sha256:" + hashlib.sha256(kind.encode()).hexdigest())
    if kind == "slowpass":
        time.sleep(1.0)
    if kind in ("pass", "slowpass"):
        write("pass"); sys.exit(0)
    if kind == "fail":
        write("fail"); sys.exit(1)
    if kind == "incomplete":
        write("incomplete"); sys.exit(1)
    if kind == "error":
        print("ERROR: the image agent:1 is not in the local engine: build or load it first"); sys.exit(2)
    if kind == "crash":
        os.kill(os.getpid(), signal.SIGKILL)
    if kind in ("hang", "stubborn"):
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])  # a worker of the run
        with pids.open("a") as f:
            f.write(f"{child.pid}\\n")
        if kind == "stubborn":
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        time.sleep(600)
''')


def image_id(kind: str) -> str:
    return "sha256:" + hashlib.sha256(kind.encode()).hexdigest()


class FakeEngine:
    def __init__(self, ids=None):
        self.ids = ids or {}
        self.swept: list[int] = []

    def image_id(self, ref):
        return self.ids.get(ref, image_id(ref.split(":")[0]))

    def remove_leftovers(self, pid):
        self.swept.append(pid)
        return 0

    def close(self):
        pass


@pytest.fixture
def fake_runs(tmp_path, monkeypatch):
    script = tmp_path / "fake_run.py"
    script.write_text(FAKE_RUN)
    pids = tmp_path / "pids"
    pids.touch()
    monkeypatch.setenv("FAKE_PIDS", str(pids))
    monkeypatch.setenv("REPO", str(Path(__file__).resolve().parents[2]))
    monkeypatch.setattr(runner, "GRACE_S", 1.0)
    monkeypatch.setattr(runner, "command", lambda entry, directory, cpus, extra=(): [
        sys.executable, str(script), entry.ref, "--certify", str(directory), "--cpus", str(cpus)])
    return pids


def settings(tmp_path, **changes):
    return batch.Settings(**{"out": tmp_path / "out", "jobs": 4, "timeout_s": 3.0, "cpus": 1.0, **changes})


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def test_each_image_ends_on_its_own_and_leaves_nothing_running(tmp_path, fake_runs):
    entries = [Entry(ref) for ref in ("pass:1", "fail:1", "error:1", "crash:1", "hang:1", "stubborn:1", "slowpass:1",
                                      "incomplete:1")]
    engine, lines = FakeEngine(), []
    started = time.monotonic()
    outcomes = batch.run(entries, settings(tmp_path), say=lines.append, engine=engine)
    took = time.monotonic() - started
    by_ref = {o.ref: o for o in outcomes}
    assert {ref: o.status for ref, o in by_ref.items()} == {
        "pass:1": "pass", "fail:1": "fail", "error:1": "error", "crash:1": "crash", "hang:1": "timeout",
        "stubborn:1": "timeout", "slowpass:1": "pass", "incomplete:1": "incomplete"}
    assert by_ref["incomplete:1"].reason == "MUST not checked: NO-CRITICAL-VULNS"
    # Four at once: the two hangs' caps (3 s, then 1 s of grace for the stubborn one) overlap the rest.
    assert took < 3.0 + 1.0 + 8.0, took
    assert by_ref["error:1"].reason == "exited with status 2: ERROR: the image agent:1 is not in the local engine: build or load it first"
    assert by_ref["crash:1"].reason == "killed by signal 9"
    assert by_ref["hang:1"].reason == "did not finish within 3 s (--timeout)"
    assert by_ref["fail:1"].failed == ["READY-200"] and by_ref["pass:1"].image_id == image_id("pass")
    # The runs' own workers are gone with them, and the engine was asked after every run.
    workers = [int(pid) for pid in fake_runs.read_text().split()]
    assert len(workers) == 2 and not any(alive(pid) for pid in workers)
    assert len(engine.swept) == len(entries)
    records = {p.stem: json.loads(p.read_text()) for p in (tmp_path / "out" / batch.RECORDS).glob("*.json")}
    assert records["hang_1"]["status"] == "timeout" and records["pass_1"]["exit_code"] == 0
    assert (tmp_path / "out" / batch.RECORDS / "error_1.log").read_text().startswith("ERROR: the image")
    assert len(lines) == len(entries) and any(line.startswith("fail") and "READY-200" in line for line in lines)
    assert batch.exit_status(outcomes, len(entries)) == 2


def test_a_current_bundle_is_not_made_again(tmp_path, fake_runs):
    entries = [Entry("pass:1"), Entry("fail:1"), Entry("error:1"), Entry("incomplete:1")]
    first = batch.run(entries, settings(tmp_path), say=lambda line: None, engine=FakeEngine())
    assert [o.resumed for o in first] == [False, False, False, False]
    again = batch.run(entries, settings(tmp_path), say=lambda line: None, engine=FakeEngine())
    assert [(o.status, o.resumed) for o in again] == [("pass", True), ("fail", True), ("error", False),
                                                      ("incomplete", True)]
    assert again[1].failed == ["READY-200"]
    # Another image behind the same reference, or --force: run again.
    rebuilt = batch.run(entries[:1], settings(tmp_path), say=lambda line: None, engine=FakeEngine({"pass:1": "sha256:new"}))
    forced = batch.run(entries[:1], settings(tmp_path, force=True), say=lambda line: None, engine=FakeEngine())
    assert not rebuilt[0].resumed and not forced[0].resumed


def test_a_bundle_that_no_longer_verifies_or_another_profile_is_run_again(tmp_path, fake_runs):
    entries = [Entry("pass:1")]
    batch.run(entries, settings(tmp_path), say=lambda line: None, engine=FakeEngine())
    assert batch.current(entries[0], tmp_path / "out", FakeEngine()) is not None
    assert batch.current(Entry("pass:1", profile="cloud-run"), tmp_path / "out", FakeEngine()) is None
    (tmp_path / "out" / "pass_1" / "report.json").write_text("{}")
    assert batch.current(entries[0], tmp_path / "out", FakeEngine()) is None


def test_exit_status():
    def outcome(status):
        return runner.Outcome("a:1", "a_1", status)
    assert batch.exit_status([outcome("pass"), outcome("pass")], 2) == 0
    assert batch.exit_status([outcome("pass"), outcome("fail")], 2) == 1
    assert batch.exit_status([outcome("pass"), outcome("incomplete")], 2) == 1
    assert batch.exit_status([outcome("fail"), outcome("timeout")], 2) == 2
    assert batch.exit_status([outcome("pass")], 2) == 2  # an image never reached


@pytest.mark.parametrize("cores, mib, jobs", [(2, 24_000, 2), (2, 2_000, 1), (8, 6_000, 3), (64, 10**6, 16), (1, 0, 1)])
def test_default_jobs_from_cores_and_memory(cores, mib, jobs):
    assert batch.default_jobs(cores, mib) == jobs


def test_the_run_command_is_the_suite_s_own_with_the_image_s_options(tmp_path):
    entry = Entry("a:1", tmp_path / "a.toml", "knative", tmp_path / "trivy.json")
    argv = runner.command(entry, tmp_path / "out" / "a_1", 0.5, ("--no-egress",))
    assert argv[:3] == [sys.executable, "-m", "conformance.cli"]
    assert argv[3:] == ["a:1", "--certify", str(tmp_path / "out" / "a_1"), "--cpus", "0.5",
                        "--agent-config", str(tmp_path / "a.toml"), "--profile", "knative",
                        "--vuln-report", str(tmp_path / "trivy.json"), "--no-egress"]


def test_one_live_line_erased_before_each_image_s_line(tmp_path, fake_runs):
    events = []
    batch.run([Entry("slowpass:1"), Entry("pass:1")], settings(tmp_path), say=lambda text: events.append(("say", text)),
              progress=lambda text: events.append(("live", text)), done=lambda: events.append(("done",)),
              engine=FakeEngine())
    said = [i for i, event in enumerate(events) if event[0] == "say"]
    assert len(said) == 2 and all(events[i - 1] == ("done",) for i in said)
    live = [event[1] for event in events if event[0] == "live"]
    assert any(text.startswith("batch: 1/2 done, 1 pass, 0 fail, 0 without a verdict; 1 running;") for text in live)
    assert events[-1] == ("done",)  # the line is erased at the end


def test_a_batch_on_a_terminal_shows_its_progress_in_place(tmp_path, fake_runs, monkeypatch, capsys):
    from conformance.fleet import command

    listing = tmp_path / "images.txt"
    listing.write_text("slowpass:1\n")
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert command.batch_main([str(listing), "--out", str(tmp_path / "out"), "--jobs", "1"], []) == 0
    shown = capsys.readouterr().out
    assert "\r\x1b[Kbatch: 0/1 done" in shown and "\r\x1b[Kpass " in shown
    assert shown.rstrip().endswith("index.html")
