"""Where the suite connects to a candidate's port 8080, decided once per run from where the engine
is, as testcontainers decides it:

- a local engine (a unix socket, the suite on the daemon's host or in Docker Desktop's): the port
  is published on 127.0.0.1 only (the candidate is untrusted) and reached there;
- a remote engine (`DOCKER_HOST=tcp://HOST:…` or `ssh://HOST`, or `TESTCONTAINERS_HOST_OVERRIDE`):
  the port is published on every interface of the daemon's host and reached at HOST;
- the suite in a container beside a mounted socket (`/.dockerenv`, Podman's `/run/.containerenv`,
  and the engine's bridge gateway not an address of this host): nothing is published; the
  candidate is reached at its own address, which containers of one engine share a network for.
  A marker alone does not decide: a CI machine may itself be a container that runs the daemon.

`AGENT_CONFORMANCE_REACH=published|address` overrides the last two; the curl lines of the report
stay the user's `docker run -p 8080:8080` + `curl 127.0.0.1:8080` whichever way was used.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import docker.errors
import requests.exceptions

_REMOTE_SCHEMES = ("tcp", "http", "https", "ssh")
_CONTAINER_MARKERS = ("/.dockerenv", "/run/.containerenv")
DEFAULT_BRIDGE = "bridge"  # Podman's compatible API answers to this name too


@dataclass(frozen=True)
class Reach:
    publish_ip: str | None  # where 8080 is published on the daemon's host; None: not published
    host: str  # where a published port is connected to
    how: str  # one line for the report
    # The containers' own addresses lead to them from here (another port of theirs can be tried
    # directly). Elsewhere an address may lead nowhere, or to a proxy that answers for anything.
    routable: bool = False

    @property
    def by_address(self) -> bool:
        return self.publish_ip is None

    @property
    def remote(self) -> bool:
        return self.publish_ip == "0.0.0.0"


LOCAL = Reach("127.0.0.1", "127.0.0.1", "at 127.0.0.1 through a port the engine published there")
LOCAL_ON_DAEMON_HOST = Reach(LOCAL.publish_ip, LOCAL.host, LOCAL.how, routable=True)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bridge_gateway_is_here(client) -> bool | None:
    """Whether the engine's default bridge has its gateway on this host (the suite shares the
    daemon's network namespace); None when the engine does not say."""
    try:
        configs = (client.api.inspect_network(DEFAULT_BRIDGE).get("IPAM") or {}).get("Config") or []
    except (docker.errors.DockerException, requests.exceptions.RequestException):
        return None
    # Docker leaves the default gateway, the subnet's first address, out of the default bridge's IPAM.
    gateways = [c.get("Gateway") or _first_host(c.get("Subnet", "")) for c in configs]
    gateways = [g for g in gateways if g]
    if not gateways:
        return None
    for gateway in gateways:
        try:
            family = socket.AF_INET6 if ":" in gateway else socket.AF_INET
            with socket.socket(family, socket.SOCK_DGRAM) as probe:
                probe.bind((gateway, 0))  # succeeds only for an address of this host
            return True
        except OSError:
            continue
    return False


def _first_host(subnet: str) -> str:
    try:
        return str(next(ipaddress.ip_network(subnet, strict=False).hosts()))
    except (ValueError, StopIteration):
        return ""


def resolve(environ: Mapping[str, str] = os.environ, in_container: bool | None = None,
            gateway_here: bool | None = None) -> Reach:
    """How this run reaches its candidates (see the module's doc); `gateway_here`:
    `bridge_gateway_is_here`."""
    override = environ.get("TESTCONTAINERS_HOST_OVERRIDE") or environ.get("TC_HOST")
    daemon_host = urlsplit(environ.get("DOCKER_HOST", ""))
    remote_host = override or (daemon_host.hostname if daemon_host.scheme in _REMOTE_SCHEMES else None)
    wanted = environ.get("AGENT_CONFORMANCE_REACH", "").strip().lower()
    if in_container is None:
        in_container = any(Path(marker).exists() for marker in _CONTAINER_MARKERS) and not gateway_here
    if wanted == "address" or (not wanted and in_container and not remote_host):
        return Reach(None, "", "at its own address on the engine's network (the suite runs in a container)",
                     routable=True)
    if remote_host and not _is_loopback(remote_host):
        return Reach("0.0.0.0", remote_host,
                     f"at {remote_host}, the daemon's host, through a port published on its every interface")
    return LOCAL_ON_DAEMON_HOST if gateway_here else LOCAL


def for_engine(client, environ: Mapping[str, str] = os.environ) -> Reach:
    """`resolve`, with the engine asked where it runs: its bridge's gateway is an address of this
    host, or (Podman's bridge exists only while a container runs) it names this host as its own."""
    here = bridge_gateway_is_here(client)
    if not here:
        try:
            here = client.info().get("Name") == socket.gethostname()
        except (docker.errors.DockerException, requests.exceptions.RequestException):
            pass
    return resolve(environ, gateway_here=here)
