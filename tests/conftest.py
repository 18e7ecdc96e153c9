"""Fixtures of the project's own tests. Helpers that tests import live in tests/helpers.py.

Tests that need a Docker daemon are under tests/integration/ and marked `docker` there; the unit
tests run without one (`pytest tests/unit` with DOCKER_HOST pointing nowhere)."""

from __future__ import annotations

import time

import docker
import pytest

from samplekit import samples
from tests.helpers import RUN_TIMEOUT_S, CliRun, finish, start_cli


@pytest.fixture(scope="session")
def docker_client():
    client = docker.from_env(timeout=60)
    yield client
    client.close()


@pytest.fixture(scope="session")
def built_samples() -> dict[str, samples.Sample]:
    """Every sample agent built; one xdist worker builds while the others wait on the build lock,
    then find the layers cached."""
    return {s.name: s for s in samples.build_all(log=lambda message: None)}


@pytest.fixture
def run_cli(tmp_path, docker_client):
    """Run `agent-conformance ARGS…` to the end; returns the Run (report parsed)."""

    def run(*args: str, env: dict | None = None, timeout_s: float = RUN_TIMEOUT_S) -> CliRun:
        started = time.monotonic()
        return finish(start_cli(list(args), tmp_path, env), tmp_path, started, docker_client, timeout_s)

    return run


