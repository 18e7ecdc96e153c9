"""Fixtures for the project's own tests: the sample images (built once, also under xdist) and a
runner for the real `agent-conformance` command that asserts it left nothing behind."""

from __future__ import annotations

import fcntl
import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import docker
import pytest

from conformance import samples
from conformance.candidate import LABEL, LABEL_OWNER

REPO = Path(__file__).resolve().parents[1]
RUN_TIMEOUT_S = 300


@pytest.fixture(scope="session")
def docker_client():
    client = docker.from_env(timeout=60)
    yield client
    client.close()


@pytest.fixture(scope="session")
def built_samples() -> dict[str, samples.Sample]:
    """Every sample agent built; one xdist worker builds while the others wait on the lock, then
    find the layers cached."""
    lock_path = REPO / ".cache" / "build.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        built = samples.build_all(log=lambda message: None)
    return {s.name: s for s in built}


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    report: dict | None
    report_md: str | None
    owner: str
    elapsed_s: float

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
    # The low-level listing: the high-level one inspects each container and races with removals.
    filters = {"label": [f"{LABEL_OWNER}={owner}"]}
    return [c["Names"][0] for c in client.api.containers(all=True, filters=filters)] + [
        v["Name"] for v in client.api.volumes(filters=filters).get("Volumes") or []
    ]


def start_cli(args: list[str], tmp_path: Path, env: dict | None = None) -> subprocess.Popen:
    command = [sys.executable, "-m", "conformance.cli", *args,
               "--report-json", str(tmp_path / "report.json"), "--report-md", str(tmp_path / "report.md")]
    return subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})


def finish(process: subprocess.Popen, tmp_path: Path, started: float, client, timeout_s: float = RUN_TIMEOUT_S) -> Run:
    try:
        stdout, stderr = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
        pytest.fail(f"agent-conformance did not finish within {timeout_s} s:\n{stdout[-2000:]}\n{stderr[-2000:]}")
    json_path, md_path = tmp_path / "report.json", tmp_path / "report.md"
    owner = f"{socket.gethostname()}:{process.pid}"
    run = Run(process.returncode, stdout, stderr,
              json.loads(json_path.read_text()) if json_path.exists() else None,
              md_path.read_text() if md_path.exists() else None, owner, time.monotonic() - started)
    left = leftovers(client, owner)
    assert not left, f"containers or volumes left behind by {owner}: {left}"
    return run


@pytest.fixture
def run_cli(tmp_path, docker_client):
    """Run `agent-conformance ARGS…` to the end; returns the Run (report parsed)."""

    def run(*args: str, env: dict | None = None, timeout_s: float = RUN_TIMEOUT_S) -> Run:
        started = time.monotonic()
        return finish(start_cli(list(args), tmp_path, env), tmp_path, started, docker_client, timeout_s)

    return run


@pytest.fixture(scope="session", autouse=True)
def no_container_of_ours_outlives_the_session(docker_client):
    """After the whole session, nothing the suite's runs labelled may remain (per-run checks above
    catch the culprit; this catches runs the tests did not wait for)."""
    yield
    mine = f"{socket.gethostname()}:"
    deadline = time.monotonic() + 10
    while True:
        left = [c["Names"][0] for c in docker_client.api.containers(all=True, filters={"label": LABEL})
                if c["Labels"].get(LABEL_OWNER, "").startswith(mine) and not _alive(c["Labels"][LABEL_OWNER])]
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert not left, f"containers left behind by finished runs: {left}"


def _alive(owner: str) -> bool:
    pid = int(owner.rpartition(":")[2] or 0)
    try:
        os.kill(pid, 0)
        return True
    except (ProcessLookupError, ValueError):
        return False
