"""Listening: TCP port 8080, on every interface. Evidence: the sockets the container listens on,
read from its network namespace."""

from __future__ import annotations

import socket

import pytest

from conformance import sockets
from conformance.candidate import PORT
from conformance.outcome import fail


@pytest.mark.requirement("LISTEN-PORT-8080")
def test_serves_http_on_port_8080(candidate, evidence):
    startup = candidate.startup
    if startup.blame == "LISTEN-PORT-8080":
        fail(startup.cause(), startup.details())
    evidence.append(f"the container {sockets.describe(startup.listeners)}")
    if startup.state == "loopback-only":
        evidence.append("port 8080 is right; the interface is not (see LISTEN-ALL-INTERFACES)")
        return
    candidate.require_serving()
    evidence.append(f"HTTP on {PORT}: {startup.last_answer.summary()}")


@pytest.mark.requirement("LISTEN-ALL-INTERFACES")
def test_accepts_connections_on_the_container_address(candidate, evidence):
    startup = candidate.startup
    if startup.blame == "LISTEN-ALL-INTERFACES":
        fail(startup.cause(), startup.details() + ["the platform connects to the pod's address, never to 127.0.0.1"])
    candidate.require_serving()
    address = candidate.ip_address()
    evidence.append(f"the container {sockets.describe(startup.listeners)}")
    try:
        with socket.create_connection((address, PORT), timeout=2.0):
            # The address itself changes from run to run: evidence names it by role.
            evidence.append(f"TCP connect to the container's bridge address, port {PORT}, from the host: accepted")
    except OSError as exc:
        fail(f"TCP connect to the container's address {address}:{PORT} failed: {exc}",
             [f"the container {sockets.describe(candidate.listeners())}"])
