"""Starting a candidate container exactly as the platform does, watching it become ready, and
removing it whatever happens.

The platform runs the image's own command as linux/amd64 with a read-only root, a writable /tmp,
no volumes and its reserved variables set. Docker would mount a writable anonymous volume on every
declared VOLUME and hide a write there: each one is masked by a read-only volume instead.
"""

from __future__ import annotations

import itertools
import os
import socket
import time
from dataclasses import dataclass, field

import docker
import docker.errors
import httpx
import requests.exceptions
from docker.types import Mount
from testcontainers.core.config import testcontainers_config
from testcontainers.core.container import DockerContainer

from . import exchange, sandbox, sockets
from .config import Budgets
from .engine import API_TIMEOUT_S, InfrastructureError, daemon_down, first_line, guard
from .image import ImageInfo

# Ryuk (testcontainers' reaper) cannot be pulled without a registry; the suite reaps by label.
testcontainers_config.ryuk_disabled = True

LABEL = "org.agent-conformance"
LABEL_RUN = "org.agent-conformance.run"
LABEL_OWNER = "org.agent-conformance.owner"
LABEL_ROLE = "org.agent-conformance.role"
PORT = 8080
TMPFS_OPTIONS = "rw,exec,size=64m,mode=1777"
LOG_TAIL_LINES = 30
LOG_LINE_CHARS = 500  # a log line shown in evidence; a flood may write megabytes without a newline

# Dummy values of the variables the platform sets (Knative on Kubernetes, OCI resource principal).
RESERVED_ENV = {
    "PORT": "8080",
    "K_SERVICE": "agent-conformance",
    "K_CONFIGURATION": "agent-conformance",
    "K_REVISION": "agent-conformance-00001",
    "KUBERNETES_SERVICE_HOST": "10.96.0.1",
    "KUBERNETES_SERVICE_PORT": "443",
    "KUBERNETES_SERVICE_PORT_HTTPS": "443",
    "KUBERNETES_PORT": "tcp://10.96.0.1:443",
    "KUBERNETES_PORT_443_TCP": "tcp://10.96.0.1:443",
    "KUBERNETES_PORT_443_TCP_ADDR": "10.96.0.1",
    "KUBERNETES_PORT_443_TCP_PORT": "443",
    "KUBERNETES_PORT_443_TCP_PROTO": "tcp",
    "OCI_RESOURCE_PRINCIPAL_VERSION": "2.2",
    "OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM": "/var/run/secrets/oci/resource-principal/private.pem",
    "OCI_RESOURCE_PRINCIPAL_RPST": "dummy-resource-principal-session-token",
}


@dataclass(frozen=True)
class Profile:
    """The constraints a candidate runs under; the platform's by default."""

    read_only_root: bool = True
    reserved_env: bool = True
    mask_volumes: bool = True
    role: str = "shared"


PLATFORM_PROFILE = Profile()


class CandidateUnavailable(RuntimeError):
    """A check cannot run because the candidate is not serving; the message is the root cause."""


@dataclass
class Startup:
    """How the wait for readiness ended. `blame` is the requirement ID that owns a failure, so each
    defect is reported once and the IDs it prevents from being checked say so."""

    state: str  # ready | serving | exited | loopback-only | wrong-port | timeout | stand-in
    elapsed_s: float
    budget_s: float
    ready_s: float | None = None
    ready_answer: exchange.Exchange | None = None
    last_answer: exchange.Exchange | None = None
    listeners: list[sockets.Listener] | None = None
    exit_code: int | None = None
    oom_killed: bool = False
    log_tail: list[str] = field(default_factory=list)
    served_port: int | None = None  # wrong-port: where /ready did answer
    blame: str = ""
    # READY-TRUTHFUL: the declared endpoints called the moment /ready first said 200, and how long
    # after that they stopped answering 5xx (None: they never failed).
    first_calls: list[exchange.Exchange] = field(default_factory=list)
    settled_s: float | None = None
    # state "stand-in": the platform's candidate does not start (why: `note`, which ID: `blame`), so
    # the checks that need HTTP use a candidate with one constraint relaxed (conformance.runtime).
    note: str = ""

    @property
    def serving(self) -> bool:
        """HTTP answers on 8080 through the container's network address."""
        return self.state in ("ready", "serving", "stand-in") or (
            self.state == "timeout" and self.last_answer is not None and self.last_answer.status is not None
        )

    def cause(self) -> str:
        """One sentence: why the candidate is not (fully) usable."""
        listening = sockets.describe(self.listeners)
        if self.state == "exited":
            oom = " (killed: out of memory)" if self.oom_killed else ""
            return f"the container exited with code {self.exit_code}{oom} {self.elapsed_s:.1f} s after start, before /ready answered 200"
        if self.state == "loopback-only":
            return f"the server is unreachable from outside the container: it {listening}"
        if self.state == "wrong-port":
            return f"HTTP is served on port {self.served_port}, not {PORT}: the container {listening}"
        if self.state == "serving":
            return f"/ready never answered 200: {self.last_answer.summary() if self.last_answer else 'no answer'}"
        if self.state == "stand-in":
            return self.note
        if self.state == "timeout":
            last = self.last_answer.summary() if self.last_answer else "no attempt"
            return f"not ready {self.elapsed_s:.0f} s after start (budget {self.budget_s:g} s); last: {last}; the container {listening}"
        return "ready"

    def details(self) -> list[str]:
        """Evidence beside the cause: the sockets and the log tail."""
        lines = [f"sockets: the container {sockets.describe(self.listeners)}"]
        if self.log_tail:
            lines.append(f"log tail ({len(self.log_tail)} lines):")
            lines += [f"  | {line}" for line in self.log_tail]
        return lines


def startup_cap_s(budget_s: float) -> float:
    """How long the wait for readiness goes on past the startup budget, so a slow agent still gets
    every other check: twice the budget, at least 30 s more."""
    return max(2 * budget_s, budget_s + 30)


def _shown_line(line: str) -> str:
    """A log line cut to its start and its end (where an error usually names its cause)."""
    if len(line) <= LOG_LINE_CHARS:
        return line
    half = LOG_LINE_CHARS // 2
    return f"{line[:half]} … ({len(line) - 2 * half} characters) … {line[-half:]}"


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


_serial = itertools.count(1)

# Called with each candidate just before `remove()` deletes its container (a certification bundle
# keeps its logs). A hook must not raise; if it does, the candidate is removed all the same.
BEFORE_REMOVE: list = []


class Candidate:
    """One container of the image under test. Always `remove()` it (the session does, by label, too).

    It runs confined (conformance.sandbox) within `budgets`, which also bound every answer read from
    it. `internal_network`: the run's network without egress (--no-egress), where it is reached at
    its own address instead of a published port."""

    def __init__(
        self, client: docker.DockerClient, image: ImageInfo, run_id: str, profile: Profile = PLATFORM_PROFILE,
        owner: str | None = None, budgets: Budgets | None = None, internal_network: str | None = None,
    ):
        self.client = client
        self.image = image
        self.profile = profile
        self.run_id = run_id
        self.budgets = budgets or Budgets()
        self.internal_network = internal_network
        self.labels = {
            LABEL: "true",
            LABEL_RUN: run_id,
            LABEL_OWNER: owner or _owner(),
            LABEL_ROLE: profile.role,
        }
        self.name = f"agent-conformance-{run_id[:8]}-{profile.role}-{os.getpid()}-{next(_serial)}"
        self.container = None  # docker-py Container once created (ordinary calls: short timeout)
        self._work: docker.DockerClient | None = None  # calls that do work: start, remove (long timeout)
        self.started_at = 0.0
        self.startup: Startup | None = None
        self._volumes: list[str] = []
        self.check = ""  # the check that started it (start_candidate); "" for a session candidate

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> "Candidate":
        if not self.image.is_platform_amd64:
            raise CandidateUnavailable(
                f"the image is {self.image.platform} and the platform runs linux/amd64 only: it cannot be started "
                "as the platform would start it (see IMAGE-PLATFORM)"
            )
        if not self.image.start_command:
            raise CandidateUnavailable(
                "the image defines no CMD or ENTRYPOINT and the platform does not accept a command: nothing "
                "to start (see IMAGE-ENTRYPOINT)"
            )
        if daemon_down():
            raise CandidateUnavailable(f"no container can be started: {daemon_down()}")
        # The client for the slow calls; told the API version, so making it calls nothing.
        tc = DockerContainer(self.image.id, docker_client_kw={"timeout": API_TIMEOUT_S,
                                                              "version": self.client.api.api_version})
        self._work = guard(tc.get_docker_client().client)
        tc.with_name(self.name)
        if not self.internal_network:
            # 127.0.0.1 only: the candidate is untrusted and must not be reachable from the network.
            tc.ports[f"{PORT}/tcp"] = ("127.0.0.1", None)
        if self.profile.reserved_env:
            tc.with_envs(**RESERVED_ENV)
        tc.with_tmpfs_mount("/tmp", TMPFS_OPTIONS)
        mounts = []
        if self.profile.mask_volumes:
            for path in self.image.volumes:
                mounts.append(Mount(target=path, source=self._masking_volume(path), type="volume", read_only=True))
        # Note: with_kwargs replaces earlier kwargs, so everything goes in one call.
        tc.with_kwargs(
            platform="linux/amd64",
            read_only=self.profile.read_only_root,
            labels=self.labels,
            mounts=mounts,
            **sandbox.container_kwargs(self.budgets, self.internal_network),
        )
        try:
            tc.start()
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            self.container = getattr(tc, "_container", None)
            raise CandidateUnavailable(f"Docker refused to start the container: {first_line(exc)}") from None
        self.container = self.client.containers.prepare_model(tc.get_wrapped_container().attrs)
        self.started_at = time.monotonic()
        return self

    def start_again(self) -> None:
        """Start the (stopped) container again, as `docker restart` does after the stop."""
        self._work.api.start(self.container.id)
        self.started_at = time.monotonic()

    def _masking_volume(self, path: str) -> str:
        # Anonymous volumes cannot be read-only; a named one is filled with the image's files at
        # first mount (as the platform shows them) and then cannot be written.
        name = f"{self.name}-vol{len(self._volumes)}"
        self.client.volumes.create(name=name, labels={**self.labels, f"{LABEL}.path": path})
        self._volumes.append(name)
        return name

    def remove(self) -> None:
        """Remove the container and its masking volumes; never raises."""
        if self.container is not None:
            for hook in BEFORE_REMOVE:
                try:
                    hook(self)
                except Exception:  # noqa: BLE001 - keeping logs must never keep a container alive
                    pass
            try:
                (self._work or self.client).api.remove_container(self.container.id, force=True, v=True)
            except (docker.errors.DockerException, requests.exceptions.RequestException):
                pass
        if self._work is not None:
            self._work.close()
        for name in self._volumes:
            try:
                self.client.volumes.get(name).remove(force=True)
            except (docker.errors.DockerException, requests.exceptions.RequestException):
                pass

    # -- observation -----------------------------------------------------------------------------
    def reload(self) -> dict:
        self.container.reload()
        return self.container.attrs

    def state(self) -> dict:
        return self.reload()["State"]

    def address(self) -> tuple[str, int]:
        """Where the suite reaches port 8080: the port published on 127.0.0.1, or on an internal
        network (nothing is published there) the container's own address. Either changes after a
        restart, so ask each time."""
        settings = self.reload()["NetworkSettings"]
        if self.internal_network:
            ip = ((settings.get("Networks") or {}).get(self.internal_network) or {}).get("IPAddress")
            if ip:
                return ip, PORT
            raise CandidateUnavailable("the container has no address on its network (it is not running)")
        for binding in (settings.get("Ports") or {}).get(f"{PORT}/tcp") or []:
            if binding.get("HostPort"):
                return "127.0.0.1", int(binding["HostPort"])
        raise CandidateUnavailable("the container has no published port (it is not running)")

    def base_url(self) -> str:
        host, port = self.address()
        return f"http://{host}:{port}"

    def ip_address(self) -> str:
        networks = self.reload()["NetworkSettings"].get("Networks") or {}
        return next((n.get("IPAddress") for n in networks.values() if n.get("IPAddress")), "")

    def listeners(self) -> list[sockets.Listener] | None:
        pid = self.state().get("Pid") or 0
        return sockets.read_listeners(pid) if pid else None

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> list[str]:
        try:
            # Bounded: the log driver splits lines at 16 KiB, and only the last `lines` are sent.
            raw = self.container.logs(tail=lines, stdout=True, stderr=True)
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            return [f"(logs unavailable: {first_line(exc)})"]
        return [_shown_line(line) for line in raw.decode("utf-8", "replace").splitlines()[-lines:]]

    def client_http(self) -> httpx.Client:
        """An HTTP client on port 8080, every answer read within the budgets."""
        return exchange.make_client(self.base_url(), self.budgets)

    # -- readiness -------------------------------------------------------------------------------
    def wait_ready(self, budget_s: float, hard_cap_s: float | None = None, poll_s: float = 0.1,
                   on_ready=None) -> Startup:
        """Poll `GET /ready` until 200, watching the container and its sockets. Ends early when the
        outcome is already certain: the container exited, /ready answers a status that is not
        "not yet" (e.g. a redirect), the server listens on loopback only, or /ready answers on
        another port. Past the budget it keeps waiting up to `hard_cap_s` (2× budget, at least +30 s) so a
        slow agent still gets every other check."""
        hard_cap_s = hard_cap_s if hard_cap_s is not None else startup_cap_s(budget_s)
        deadline = self.started_at + hard_cap_s
        last: exchange.Exchange | None = None
        listeners: list[sockets.Listener] | None = None
        next_socket_look = 0.0
        http: httpx.Client | None = None
        try:
            while True:
                now = time.monotonic()
                state = self.state()
                if state.get("Status") in ("exited", "dead") or not state.get("Running"):
                    return self._ended("exited", last, listeners, budget_s,
                                       exit_code=state.get("ExitCode"), oom_killed=bool(state.get("OOMKilled")))
                if http is None:
                    http = self.client_http()
                remaining = deadline - now
                last = exchange.request(http, "GET", "/ready", timeout_s=max(0.2, min(1.0, remaining)))
                if last.status == 200:
                    # Called before anything else: what traffic meets the moment /ready says 200.
                    ready_s = time.monotonic() - self.started_at
                    first_calls = on_ready(http) if on_ready else []
                    return self._ended("ready", last, listeners, budget_s, ready_answer=last, ready_s=ready_s,
                                       first_calls=first_calls)
                if last.status is not None and last.status < 500:
                    return self._ended("serving", last, listeners, budget_s, blame="READY-200")
                if now >= next_socket_look:
                    next_socket_look = now + 0.5
                    listeners = self.listeners()
                    early = self._socket_verdict(listeners)
                    if early:
                        return self._ended(early[0], last, listeners, budget_s, served_port=early[1],
                                           blame="LISTEN-ALL-INTERFACES" if early[0] == "loopback-only" else "LISTEN-PORT-8080")
                if remaining <= 0:
                    blame = "LISTEN-PORT-8080" if listeners and not any(x.port == PORT for x in listeners) else "STARTUP-TIME"
                    return self._ended("timeout", last, listeners, budget_s, blame=blame)
                time.sleep(poll_s)
        finally:
            if http is not None:
                http.close()

    def _socket_verdict(self, listeners: list[sockets.Listener] | None) -> tuple[str, int | None] | None:
        if not listeners:
            return None
        on_port = [x for x in listeners if x.port == PORT]
        if on_port and all(x.loopback for x in on_port):
            return ("loopback-only", None)
        if on_port:
            return None
        ip = self.ip_address()
        for listener in listeners:
            if listener.loopback or not ip:
                continue
            with exchange.make_client(f"http://{ip}:{listener.port}", self.budgets) as http:
                if exchange.request(http, "GET", "/ready", timeout_s=0.5).status is not None:
                    return ("wrong-port", listener.port)
        return None

    def _ended(self, state: str, last, listeners, budget_s: float, **details) -> Startup:
        elapsed = time.monotonic() - self.started_at
        if state != "exited":
            listeners = self.listeners()  # fresh: the last look may predate the bind
        startup = Startup(state=state, elapsed_s=elapsed, budget_s=budget_s, last_answer=last, listeners=listeners,
                          **details)
        if state == "exited":
            startup.blame = startup.blame or "STARTUP-TIME"
        if state != "ready":
            startup.log_tail = self.log_tail()
        self.startup = startup
        return startup

    def require_serving(self) -> None:
        """Raise CandidateUnavailable (→ the check is `error`) unless HTTP answers on 8080."""
        startup = self.startup
        if startup is None or not startup.serving:
            cause = startup.cause() if startup else "the candidate was not started"
            see = f" (see {startup.blame})" if startup and startup.blame else ""
            raise CandidateUnavailable(cause + see)


# -- cleanup by label ----------------------------------------------------------------------------
def labelled(client: docker.DockerClient, label_filters: list[str]) -> tuple[list[dict], list[dict], list[dict]]:
    """The containers, volumes and networks carrying all these labels (the API's raw listings)."""
    # Low-level listings: the high-level ones inspect each object and race with concurrent removals.
    filters = {"label": label_filters}
    containers = client.api.containers(all=True, filters=filters)
    volumes = client.api.volumes(filters=filters).get("Volumes") or []
    networks = client.api.networks(filters=filters)
    return containers, volumes, networks


def remove_labelled(client: docker.DockerClient, filters: dict[str, str]) -> int:
    """Remove every container, volume and network carrying these labels (networks last: they
    cannot go while a container is attached); returns the number of containers."""
    removed = 0
    try:
        containers, volumes, networks = labelled(client, [f"{k}={v}" for k, v in filters.items()])
        for container in containers:
            try:
                client.api.remove_container(container["Id"], force=True, v=True)
                removed += 1
            except docker.errors.NotFound:
                pass
            except docker.errors.APIError as exc:
                # Another run reaping the same orphan got there first: it is going, as wanted.
                if exc.status_code != 409 or "already in progress" not in str(exc):
                    raise
        for volume in volumes:
            try:
                client.api.remove_volume(volume["Name"], force=True)
            except docker.errors.NotFound:
                pass
        for network in networks:
            try:
                client.api.remove_network(network["Id"])
            except docker.errors.NotFound:
                pass
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        raise InfrastructureError(f"could not remove the suite's containers: {first_line(exc)}") from None
    return removed


def reap_orphans(client: docker.DockerClient) -> int:
    """Remove what runs on this host left behind when they were killed (their owner PID is gone):
    containers, volumes and networks."""
    host = socket.gethostname()
    try:
        found = labelled(client, [LABEL])
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        raise InfrastructureError(f"could not list the suite's containers: {first_line(exc)}") from None
    owners = {(item.get("Labels") or {}).get(LABEL_OWNER, "") for items in found for item in items}
    removed = 0
    for owner in owners:
        owner_host, _, pid = owner.rpartition(":")
        if owner_host == host and pid.isdigit() and not _alive(int(pid)):
            removed += remove_labelled(client, {LABEL_OWNER: owner})
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
