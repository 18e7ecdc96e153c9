"""The same verdict wherever a Docker API answers: a representative subset of the samples (the
image, listening, filesystem and lifecycle ones) gets, in every engine mode, exactly the failing
IDs the local run gives (test_matrix.py runs them all locally), with the same evidence of what the
container listens on and what its PID 1 does with SIGTERM."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from samplekit import engine_modes

RUN = [sys.executable, "-m", "conformance.cli", "matrix", "--no-build"]
SUBSET = ["reference", "broken/loopback-only", "broken/wrong-port", "broken/home-cache", "broken/shell-form-cmd"]
# How each mode reaches the candidates, and which engine it names.
EXPECTED = {
    "host-blind": ("Docker", "at 127.0.0.1 through a port the engine published there"),
    "in-container": ("Docker", "at its own address on the engine's network (the suite runs in a container)"),
    "dind": ("Docker", "the daemon's host, through a port published on its every interface"),
    "podman": ("Podman", "at 127.0.0.1 through a port the engine published there"),
}


@pytest.mark.parametrize("mode", list(EXPECTED))
def test_the_subset_gets_the_local_verdicts(mode, built_samples):
    reports = engine_modes.ROOT / "artifacts" / "engine-modes" / mode  # in-container mode sees the checkout only
    shutil.rmtree(reports, ignore_errors=True)
    out = subprocess.run(RUN + ["--engine-mode", mode, "--reports", str(reports), *SUBSET], capture_output=True,
                         text=True, timeout=1800)
    assert out.returncode == 0, out.stdout + out.stderr[-3000:]
    assert out.stdout.splitlines()[-1] == f"{len(SUBSET)} samples: {len(SUBSET)} as expected, 0 mismatched"
    got = {p.stem: json.loads(p.read_text()) for p in reports.glob("*.json")}
    kind, reached = EXPECTED[mode]
    for name, report in got.items():
        assert report["engine"]["kind"] == kind, name
        assert reached in report["engine"]["reached"], name
    # The evidence read from inside the container, wherever the suite stands.
    loopback = _requirement(got["broken-loopback-only"], "LISTEN-ALL-INTERFACES")
    assert "listens on 127.0.0.1:8080" in " ".join(loopback["evidence"])
    shutdown = _requirement(got["broken-shell-form-cmd"], "GRACEFUL-SHUTDOWN")
    assert any(line.startswith("PID 1: /bin/sh -c") and "has no SIGTERM handler" in line
               for line in shutdown["evidence"]), shutdown["evidence"]
    reference = _requirement(got["reference"], "GRACEFUL-SHUTDOWN")
    assert any(line.startswith("PID 1: python agent.py") and "handles SIGTERM" in line
               for line in reference["evidence"]), reference["evidence"]


def _requirement(report: dict, rid: str) -> dict:
    return next(r for r in report["requirements"] if r["id"] == rid)
