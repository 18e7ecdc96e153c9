"""Listening: TCP port 8080, on every interface. Evidence: the sockets the container listens on,
read from its network namespace."""

from __future__ import annotations

import socket

import pytest

from conformance.candidate import sockets
from conformance.candidate.container import Constraints
from conformance.candidate.readiness import StartupState
from conformance.check import NotChecked, fail, see


@pytest.mark.requirement("LISTEN-PORT-8080")
def test_serves_http_on_port_8080(candidate, platform, requirement_id, evidence):
    startup = candidate.startup
    if startup.blame == requirement_id:
        fail(startup.cause(), startup.details())
    evidence.append(f"the container {sockets.describe(startup.listeners)}")
    if startup.state == "loopback-only":
        evidence.append(f"port {platform.port} is right; the interface is not (see {startup.blame})")
        return
    candidate.require_serving()
    evidence.append(f"HTTP on {platform.port}: {startup.last_answer.summary()}")


@pytest.mark.requirement("LISTEN-ALL-INTERFACES")
def test_accepts_connections_on_the_container_address(candidate, platform, requirement_id, evidence):
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
            evidence.append(f"TCP connect to port {platform.port} from outside the container: accepted")
    except OSError as exc:
        fail(f"TCP connect to port {platform.port} from outside the container ({host}:{port}) failed: {exc}",
             [f"the container {sockets.describe(candidate.listeners())}"])


@pytest.mark.requirement("PORT-FROM-ENV")
def test_listens_on_the_port_named_in_PORT(candidates, budgets, platform, evidence):
    """A candidate of its own, started with another port in $PORT, must serve there: the platform
    sends traffic to the port it names, whatever the image was built for."""
    other = 8081 if platform.port != 8081 else 8082
    own = candidates.make(Constraints(role="port-env", port=other), check="PORT-FROM-ENV")
    try:
        own.start()
        startup = own.wait_ready(budgets.startup_s)
    finally:
        own.remove()
    evidence.append(f"started with PORT={other}: the container {sockets.describe(startup.listeners)}")
    if startup.state in (StartupState.READY, StartupState.SERVING):
        evidence.append(f"HTTP on port {other}: {startup.last_answer.summary()}")
        return
    if startup.state in (StartupState.WRONG_PORT, StartupState.TIMEOUT_OTHER_PORT):
        fail(f"started with PORT={other}, it does not serve there: {startup.cause()}", startup.details())
    if startup.state == StartupState.EXITED:
        fail(f"started with PORT={other}, {startup.cause()}", startup.details())
    raise NotChecked(f"started with PORT={other}: {startup.cause()}" + (f" {see(startup.blame)}" if startup.blame else ""))
