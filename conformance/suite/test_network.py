"""Listening: TCP port 8080, on every interface. Evidence: the sockets the container listens on,
read from its network namespace."""

from __future__ import annotations

import socket

import pytest

from conformance.candidate import sockets
from conformance.check import fail, platform


@pytest.mark.requirement("LISTEN-PORT-8080")
def test_serves_http_on_port_8080(candidate, requirement_id, evidence):
    startup = candidate.startup
    if startup.blame == requirement_id:
        fail(startup.cause(), startup.details())
    evidence.append(f"the container {sockets.describe(startup.listeners)}")
    if startup.state == "loopback-only":
        evidence.append(f"port {platform.PORT} is right; the interface is not (see {startup.blame})")
        return
    candidate.require_serving()
    evidence.append(f"HTTP on {platform.PORT}: {startup.last_answer.summary()}")


@pytest.mark.requirement("LISTEN-ALL-INTERFACES")
def test_accepts_connections_on_the_container_address(candidate, requirement_id, evidence):
    startup = candidate.startup
    if startup.blame == requirement_id:
        fail(startup.cause(), startup.details() + ["the platform connects to the pod's address, never to 127.0.0.1"])
    candidate.require_serving()
    evidence.append(f"the container {sockets.describe(startup.listeners)}")
    # A published port is forwarded to the container's own address, never to its loopback: either
    # way the connection arrives from outside the container, as the platform's does.
    host, port = candidate.address()
    try:
        with socket.create_connection((host, port), timeout=2.0):
            # The address itself changes from run to run: evidence names it by role.
            evidence.append(f"TCP connect to port {platform.PORT} from outside the container: accepted")
    except OSError as exc:
        fail(f"TCP connect to port {platform.PORT} from outside the container ({host}:{port}) failed: {exc}",
             [f"the container {sockets.describe(candidate.listeners())}"])
