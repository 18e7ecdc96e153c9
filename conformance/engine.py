"""The Docker engine connection: bounded in time, and failing with a message that says what to do."""

from __future__ import annotations

import os

import docker
import docker.errors
import requests.exceptions

# Every call to the daemon is bounded; a daemon that stops answering ends the run with a message.
API_TIMEOUT_S = float(os.environ.get("AGENT_CONFORMANCE_DOCKER_TIMEOUT", "60"))


class InfrastructureError(RuntimeError):
    """The run cannot decide anything (no Docker daemon, image absent, …): exit 2, no verdict."""


def connect(timeout_s: float = API_TIMEOUT_S) -> docker.DockerClient:
    where = os.environ.get("DOCKER_HOST", "the default socket /var/run/docker.sock")
    try:
        client = docker.from_env(timeout=timeout_s)
        client.ping()
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        raise InfrastructureError(
            f"cannot reach the Docker daemon at {where} ({first_line(exc)}): start it (`sudo dockerd &` "
            "or `systemctl start docker`) or set DOCKER_HOST"
        ) from None
    return client


def first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]
