"""Helpers for the project's own tests (imported by test modules; the fixtures live in the
conftests): running the real `agent-conformance` command and asserting it left nothing in the
engine, measuring its peak memory, listing what the suite labelled."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import docker
import pytest

from conformance.candidate.labels import LABEL, LABEL_OWNER, labelled, owner_id

REPO = Path(__file__).resolve().parents[1]
RUN_TIMEOUT_S = 300


@dataclass
class CliRun:
    """One whole run of the `agent-conformance` command, as a test sees it."""

    returncode: int
    stdout: str
    stderr: str
    report: dict | None
    report_md: str | None
    owner: str
    elapsed_s: float
    peak_rss_mib: float = 0.0  # the largest resident size of the command's process tree

    def statuses(self) -> dict[str, str]:
        return {r["id"]: r["status"] for r in self.report["requirements"]}

    def ids(self, status: str) -> set[str]:
        return {i for i, s in self.statuses().items() if s == status}

    def requirement(self, rid: str) -> dict:
        return next(r for r in self.report["requirements"] if r["id"] == rid)

    def explain(self) -> str:
        rows = [f"{r['id']}: {r['status']}: {' | '.join(r['evidence'][:4])}" for r in (self.report or {}).get("requirements", [])
                if r["status"] != "pass"]
        return "\n".join(rows + ["--- stdout ---", self.stdout[-3000:], "--- stderr ---", self.stderr[-2000:]])


def leftovers(client: docker.DockerClient, owner: str) -> list[str]:
    """Containers, volumes and networks of the run `owner` still in the engine."""
    return [name for name, _ in _named(client, [f"{LABEL_OWNER}={owner}"])]


def _named(client: docker.DockerClient, label_filters: list[str]) -> list[tuple[str, dict]]:
    """(name, labels) of every container ("/name"), volume and network carrying these labels."""
    containers, volumes, networks = labelled(client, label_filters)
    return ([(c["Names"][0], c.get("Labels") or {}) for c in containers]
            + [(item["Name"], item.get("Labels") or {}) for item in volumes + networks])


def owner_of(process: subprocess.Popen) -> str:
    return owner_id(process.pid)


class PeakRSS:
    """The peak resident memory of a process tree, sampled from /proc while it runs: the largest
    sum of the tree's VmRSS, and at least the main process's own high-water mark (VmHWM). Counted
    once the process runs `program`: until its exec, a child started by vfork shows its parent's."""

    def __init__(self, pid: int, program: bytes, period_s: float = 0.05):
        self.pid, self.program, self.period_s = pid, program, period_s
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(self.period_s):
            try:
                if self.program not in Path(f"/proc/{self.pid}/cmdline").read_bytes():
                    continue
            except OSError:
                return
            tree = _tree(self.pid)
            total = sum(_status_kib(pid, "VmRSS") for pid in tree)
            self.peak_kib = max(self.peak_kib, total, _status_kib(self.pid, "VmHWM"))

    def stop(self) -> float:
        self._stop.set()
        self._thread.join(2)
        return self.peak_kib / 1024


def _tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(child) for child in (task / "children").read_text().split()]
        except OSError:  # it is gone (or going)
            pass
    return found


def _status_kib(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def start_cli(args: list[str], tmp_path: Path, env: dict | None = None) -> subprocess.Popen:
    command = [sys.executable, "-m", "conformance.cli", *args,
               "--report-json", str(tmp_path / "report.json"), "--report-md", str(tmp_path / "report.md")]
    process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})})
    process.rss = PeakRSS(process.pid, b"conformance.cli")
    process.seen = ""  # stdout read by wait_for_output before the end
    return process


def wait_for_output(process: subprocess.Popen, marker: str, timeout_s: float) -> None:
    """Read the run's stdout as it comes until `marker` shows (pytest -v names a check as it starts)."""
    deadline = time.monotonic() + timeout_s
    fd = process.stdout.fileno()
    while marker not in process.seen:
        remaining = deadline - time.monotonic()
        assert remaining > 0 and process.poll() is None, f"{marker!r} never showed:\n{process.seen[-3000:]}"
        if select.select([fd], [], [], min(remaining, 0.5))[0]:
            process.seen += os.read(fd, 65536).decode("utf-8", "replace")


def finish(process: subprocess.Popen, tmp_path: Path, started: float, client, timeout_s: float = RUN_TIMEOUT_S,
           left_allowed: bool = False) -> CliRun:
    try:
        stdout, stderr = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
        pytest.fail(f"agent-conformance did not finish within {timeout_s} s:\n{stdout[-2000:]}\n{stderr[-2000:]}")
    finally:
        peak = process.rss.stop()
    json_path, md_path = tmp_path / "report.json", tmp_path / "report.md"
    owner = owner_of(process)
    run = CliRun(process.returncode, process.seen + stdout, stderr,
              json.loads(json_path.read_text()) if json_path.exists() else None,
              md_path.read_text() if md_path.exists() else None, owner, time.monotonic() - started, peak)
    if not left_allowed:
        left = leftovers(client, owner)
        assert not left, f"containers, volumes or networks left behind by {owner}: {left}"
    return run


def labelled_owners(client: docker.DockerClient) -> list[tuple[str, str]]:
    """(name, owner) of every container, volume and network carrying the suite's label."""
    return [(name, labels.get(LABEL_OWNER, "")) for name, labels in _named(client, [LABEL])]


def owner_alive(owner: str) -> bool:
    pid = int(owner.rpartition(":")[2] or 0)
    try:
        os.kill(pid, 0)
        return True
    except (ProcessLookupError, ValueError):
        return False
