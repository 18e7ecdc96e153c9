"""The Docker engine connection: bounded in time, and failing with a message that says what to do.

Every call to the daemon is bounded: ordinary calls (inspect, logs, signals, listings) by
CALL_TIMEOUT_S, calls that do work (create, start, remove) by API_TIMEOUT_S. When a call
finds no daemon — it timed out or the connection failed, and a ping on a fresh connection gets no
answer either — the daemon is taken for gone: every later call of the clients that share its
`DaemonWatch` (a run's, through `client.watch`) fails at once with that cause (`watch.down`), so a
hung daemon costs the run one timeout, not one per call.

The image is inspected here, never pulled: one that is not in the local engine is an
infrastructure error that says how to get it there.
"""

from __future__ import annotations

import os
import re
import threading

import docker
import docker.errors
import requests
import requests.exceptions

from ..errors import InfrastructureError
from ..image import reference
from ..image.config import ImageInfo, from_attrs

API_TIMEOUT_S = float(os.environ.get("AGENT_CONFORMANCE_DOCKER_TIMEOUT", "60"))
CALL_TIMEOUT_S = float(os.environ.get("AGENT_CONFORMANCE_DOCKER_CALL_TIMEOUT", "15"))
PING_TIMEOUT_S = 5.0
_ID = re.compile(r"\b[0-9a-f]{64}\b")  # container IDs in API paths, shown short


class DaemonUnavailable(requests.exceptions.ConnectionError):
    """The daemon stopped answering earlier in this process; raised at once instead of waiting again.
    A ConnectionError, so every handler of Docker failures handles it."""


class DaemonWatch:
    """Whether the daemon is taken for gone, shared by the clients of one run (`connect(watch=…)`,
    then `client.watch`): the first that finds it gone tells the others."""

    def __init__(self) -> None:
        self._down = ""
        self._lock = threading.Lock()

    @property
    def down(self) -> str:
        """Why the Docker daemon is taken for gone ("" while it answers)."""
        return self._down

    def mark_down(self, message: str) -> None:
        with self._lock:
            self._down = self._down or message


def where() -> str:
    return os.environ.get("DOCKER_HOST", "the default socket /var/run/docker.sock")


def connect(timeout_s: float = CALL_TIMEOUT_S, version: str | None = None,
            watch: DaemonWatch | None = None) -> docker.DockerClient:
    """A guarded client; `version`: the API version when known (else it is asked for, within the
    timeout); `watch`: shared with the run's other clients (a new one when not given)."""
    watch = watch or DaemonWatch()
    try:
        if watch.down:
            raise DaemonUnavailable(watch.down)
        client = guard(docker.from_env(timeout=timeout_s, version=version), watch)
        client.ping()
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        cause, advice = unreachable(str(exc))
        raise InfrastructureError(f"cannot reach the Docker daemon at {where()} ({cause}): {advice}") from None
    if _older(client.api.api_version, MIN_API_VERSION):
        client.close()
        raise InfrastructureError(
            f"the Docker daemon at {where()} speaks API {client.api.api_version}; the suite needs {MIN_API_VERSION} "
            "(Docker 17.06, Podman 3) or newer: upgrade the engine, or set DOCKER_HOST to a newer one")
    return client


# `wait(condition="not-running")`, which every stop is timed with, came with API 1.30.
MIN_API_VERSION = "1.30"


def _older(version: str, than: str) -> bool:
    def parts(v: str) -> tuple[int, ...]:
        return tuple(int(p) for p in v.split(".") if p.isdigit())
    return parts(version) < parts(than)


def describe(client: docker.DockerClient) -> dict[str, object]:
    """The engine, as the report names it: Docker or Podman, version, API, OS, rootless or not."""
    try:
        version, info = client.version(), client.info()
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        return {"kind": "unknown", "error": first_line(exc)}
    components = [str(c.get("Name", "")) for c in version.get("Components") or []]
    options = " ".join(info.get("SecurityOptions") or [])
    return {
        "kind": "Podman" if any("podman" in c.lower() for c in components) else "Docker",
        "version": version.get("Version", ""),
        "api_version": client.api.api_version,
        "os": info.get("OperatingSystem", "") or version.get("Os", ""),
        "architecture": version.get("Arch", ""),
        "rootless": bool(info.get("Rootless")) or "rootless" in options,  # Podman says it at the top level
        "address": where(),
    }


_START = "start it (`sudo dockerd &` or `systemctl start docker`) or set DOCKER_HOST"
_START_PODMAN = "start Podman's socket (`systemctl --user start podman.socket`, or `podman system service --time=0 &`)"
# What the client's error says → (the cause in a few words, what to do). The client's own wording
# nests a requests error in a urllib3 one: shown whole it is a paragraph of internals.
_UNREACHABLE = (
    ("No such file or directory", "no socket there", _START),
    ("Connection refused", "connection refused", _START),
    ("Permission denied", "permission denied",
     "run as a user allowed to use the Docker socket (the docker group) or as root, or set DOCKER_HOST"),
    ("paramiko", "an ssh:// DOCKER_HOST needs the paramiko package",
     "pip install paramiko, or set DOCKER_HOST to a unix:// or tcp:// address"),
    ("timed out", "no answer", _START),
    ("Name or service not known", "unknown host name", "correct the host in DOCKER_HOST"),
)


def unreachable(error: str, address: str | None = None) -> tuple[str, str]:
    """(cause, what to do) for an error met connecting to the daemon at `address` (DOCKER_HOST)."""
    address = where() if address is None else address
    for said, cause, advice in _UNREACHABLE:
        if said.lower() in error.lower():
            if advice is _START and "podman" in address:
                advice = _START_PODMAN
            elif advice is _START and address.startswith("ssh://"):
                advice = "check that `ssh` to that host works without a password prompt (a key in ssh-agent)"
            return cause, advice
    if address.startswith("ssh://"):
        return ((error.strip().splitlines() or ["no answer"])[0][:300],
                "check that `ssh` to that host works without a password prompt (a key in ssh-agent) and that the "
                "user there may use the Docker socket")
    return (error.strip().splitlines() or ["no answer"])[0][:300], _START


def for_slow_calls(client: docker.DockerClient) -> docker.DockerClient:
    """A client like `client` (it answered: its API version is known) for calls that do work."""
    return connect(API_TIMEOUT_S, version=client.api.api_version, watch=watch_of(client))


def watch_of(client: docker.DockerClient) -> DaemonWatch:
    """The watch a guarded client reports to (a new one for a client `guard` never saw)."""
    return getattr(client, "watch", None) or DaemonWatch()


def guard(client: docker.DockerClient, watch: DaemonWatch) -> docker.DockerClient:
    """Make `client` fail fast once `watch` takes the daemon for gone, and tell it when it goes."""
    api = client.api
    send = api.send
    client.watch = watch
    if api.base_url.startswith(("http+unix://", "http+docker://")):
        # A local socket goes through no proxy: requests would read the proxy variables of the
        # environment on every call (2 ms of CPU each; a run makes over a hundred).
        api.trust_env = False

    def guarded_send(request, **kwargs):
        if watch.down:
            raise DaemonUnavailable(watch.down)
        try:
            return send(request, **kwargs)
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
            # A timeout may be the caller's own (`wait(timeout=…)`): only a failed ping says "gone".
            if not _pings(send, api.base_url):
                path = _ID.sub(lambda m: m.group(0)[:12], request.path_url.split("?")[0])
                watch.mark_down(f"the Docker daemon at {where()} stopped answering ({request.method} {path}: "
                           f"{first_line(exc)}; no answer to a ping within {PING_TIMEOUT_S:g} s)")
            raise

    api.send = guarded_send
    return client


def _pings(send, base_url: str) -> bool:
    try:
        return send(requests.Request("GET", f"{base_url}/_ping").prepare(), timeout=PING_TIMEOUT_S).ok
    except requests.exceptions.RequestException:
        return False


def first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]


def inspect_image(client: docker.DockerClient, ref: str) -> ImageInfo:
    """The image `ref` names. `IMAGE@sha256:…` must be that image: the digest is its repo digest, or
    its ID (a local build has no repo digest, and the engine does not look images up by ID in a
    reference: `IMAGE`, else the ID, is asked for then, and the digest compared)."""
    pinned = reference.split_digest(ref)
    try:
        try:
            attrs = client.api.inspect_image(ref)
        except docker.errors.ImageNotFound:
            if pinned is None:
                raise
            attrs = client.api.inspect_image(pinned[0] or pinned[1])
    except docker.errors.ImageNotFound:
        raise InfrastructureError(
            f"image {ref!r} is not in the local Docker engine: build it (`docker build -t {ref} .`) or pull it "
            "first; the suite never pulls"
        ) from None
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        raise InfrastructureError(f"cannot inspect image {ref!r}: {first_line(exc)}") from None
    image = from_attrs(ref, attrs)
    wrong = reference.mismatch(ref, image)
    if wrong:
        raise InfrastructureError(wrong)
    return image
