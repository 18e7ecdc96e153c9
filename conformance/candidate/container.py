"""A candidate: one container of the image under test, started exactly as the platform starts it
and removed whatever happens.

The platform runs the image's own command as linux/amd64 with a read-only root, a writable /tmp,
no volumes and its reserved variables set (`Constraints`: the platform's by default; the lifecycle
trials relax one at a time). Docker would mount a writable anonymous volume on every declared
VOLUME and hide a write there: each one is masked by a read-only volume instead.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import docker
import docker.errors
import httpx
import requests.exceptions
from docker.types import Mount
from testcontainers.core.config import testcontainers_config
from testcontainers.core.container import DockerContainer

from ..contract.agent_config import Budgets
from ..contract.platform import TMPFS_OPTIONS, Platform, default
from ..contract.secrets import Redactor
from ..errors import NotChecked, see
from ..image.config import ImageInfo
from ..wire import bounded, exchange
from ..wire.rawprobe import RawProbe
from . import inside, logs, readiness, sandbox, signals, sockets
from .engine import API_TIMEOUT_S, first_line, guard, watch_of
from .labels import LABEL, LABEL_ROLE, owner_id, run_labels
from .reach import LOCAL, Reach


@dataclass(frozen=True)
class Constraints:
    """What a candidate runs under; the platform's by default. `role` names it in labels and logs."""

    read_only_root: bool = True
    reserved_env: bool = True
    mask_volumes: bool = True
    role: str = "shared"
    port: int | None = None  # another port given in $PORT (PORT-FROM-ENV); None: the platform's
    # Its weight against the run's other candidates when the cores are contended (None: Docker's
    # 1024). Not a limit: alone it gets every core it may use; the platform knows no such thing.
    cpu_shares: int | None = None


PLATFORM_CONSTRAINTS = Constraints()
PODMAN_WRITABLE_ON_READ_ONLY = ("/run", "/var/tmp")

# Ryuk (testcontainers' reaper) cannot be pulled without a registry, and the suite reaps by label
# itself: the one place it is turned off.
testcontainers_config.ryuk_disabled = True


class Candidate:
    """One container of the image under test. Always `remove()` it (the run does, by label, too).

    It runs confined (`sandbox`) within `budgets`, which also bound every answer read from it.
    `internal_network`: the run's network without egress (--no-egress), where it is reached at its
    own address instead of a published port. `before_remove(candidate)` is called just before the
    container is removed (a certification bundle keeps its log); it must not raise, and if it does
    the container is removed all the same."""

    def __init__(
        self, client: docker.DockerClient, image: ImageInfo, run_id: str,
        constraints: Constraints = PLATFORM_CONSTRAINTS, owner: str | None = None, budgets: Budgets | None = None,
        internal_network: str | None = None, before_remove: Callable[["Candidate"], None] | None = None,
        check: str = "", traffic: bounded.Traffic | None = None, reach: Reach = LOCAL, engine_kind: str = "Docker",
        platform: Platform | None = None, programs: inside.KnownPrograms | None = None,
        agent_env: tuple[tuple[str, str], ...] = (), setup: tuple = (),
    ):
        self.client = client
        self.platform = platform or default()  # what the platform does to it (profile, emulation)
        self.programs = programs or inside.KnownPrograms()  # which helper programs its image has
        self.agent_env = agent_env  # the agent's own variables (--env): given to every candidate
        self.secrets = Redactor(agent_env)  # their values, hidden in whatever it prints
        self.setup = setup  # the agent config's [[setup]] requests: sent each time it is ready
        self.image = image
        self.constraints = constraints
        self.run_id = run_id
        self.budgets = budgets or Budgets()
        self.internal_network = internal_network
        self.reach = reach  # where port 8080 is published and connected to
        self.engine_kind = engine_kind  # "Docker" or "Podman" (engine.describe)
        self.before_remove = before_remove
        self.traffic = traffic or bounded.Traffic()  # what the run knows of the image's streams
        self.labels = run_labels(run_id, owner or owner_id(), **{LABEL_ROLE: constraints.role})
        self.name = f"agent-conformance-{run_id[:8]}-{constraints.role}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.container = None  # docker-py Container once created (ordinary calls: short timeout)
        self._work: docker.DockerClient | None = None  # calls that do work: start, remove (long timeout)
        self.started_at = 0.0
        self.startup: readiness.Startup | None = None
        self._volumes: list[str] = []
        self._removed = False
        self._removing = threading.Lock()
        self._host_proc: dict[tuple[str, int], bool] = {}
        self.looks_cost_a_container = False  # its sockets are read by a helper container: look less often
        self.unseen = ""  # why its sockets could not be read, if they could not
        self.check = check  # the check or trial it serves, naming its kept log; "" for the shared one

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> "Candidate":
        if not self.image.runs_on(self.platform.image_platform):
            raise NotChecked(
                f"the image is {self.image.platform} and the platform runs {self.platform.image_platform} only: it cannot be started "
                f"as the platform would start it {see('IMAGE-PLATFORM')}"
            )
        if not self.image.start_command:
            raise NotChecked(
                "the image defines no CMD or ENTRYPOINT and the platform does not accept a command: nothing "
                f"to start {see('IMAGE-ENTRYPOINT')}"
            )
        watch = watch_of(self.client)
        if watch.down:
            raise NotChecked(f"no container can be started: {watch.down}")
        # The client for the slow calls; told the API version, so making it calls nothing.
        tc = DockerContainer(self.image.id, docker_client_kw={"timeout": API_TIMEOUT_S,
                                                              "version": self.client.api.api_version})
        self._work = guard(tc.get_docker_client().client, watch)
        tc.with_name(self.name)
        if not self.internal_network and not self.reach.by_address:
            # Locally 127.0.0.1 only: the candidate is untrusted and must not be reachable from the
            # network. A remote daemon's host publishes it on every interface (the report says so).
            tc.ports[f"{self.port}/tcp"] = (self.reach.publish_ip, None)
        if self.agent_env:
            tc.with_envs(**dict(self.agent_env))
        if self.constraints.reserved_env:
            tc.with_envs(**self.platform.reserved_env)
        if self.constraints.port is not None:
            tc.with_env("PORT", str(self.constraints.port))
        tc.with_tmpfs_mount("/tmp", TMPFS_OPTIONS)
        if self.engine_kind == "Podman" and self.constraints.read_only_root and self.platform.read_only_root:
            # Podman mounts writable tmpfs on these of a read-only container (the compatible API
            # cannot say no): read-only ones instead, so a write there fails as on the platform.
            for path in PODMAN_WRITABLE_ON_READ_ONLY:
                tc.with_tmpfs_mount(path, "ro")
        mounts = []
        if self.constraints.mask_volumes:
            for path in self.image.volumes:
                mounts.append(Mount(target=path, source=self._masking_volume(path), type="volume", read_only=True))
        # Note: with_kwargs replaces earlier kwargs, so everything goes in one call.
        tc.with_kwargs(
            platform=self.platform.image_platform,
            read_only=self.constraints.read_only_root and self.platform.read_only_root,
            labels=self.labels,
            mounts=mounts,
            **sandbox.container_kwargs(self.budgets, self.internal_network),
            **({"cpu_shares": self.constraints.cpu_shares} if self.constraints.cpu_shares else {}),
        )
        try:
            tc.start()
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            self.container = getattr(tc, "_container", None)
            raise NotChecked(f"Docker refused to start the container: {first_line(exc)}") from None
        self.container = self.client.containers.prepare_model(tc.get_wrapped_container().attrs)
        self.started_at = time.monotonic()
        if self.platform.emulated:
            self._refuse_unrunnable_architecture()
        return self

    def _refuse_unrunnable_architecture(self) -> None:
        """An image of another architecture than the engine's runs only where QEMU is registered
        for it; without, its first exec fails at once. Say so, rather than blame its start-up."""
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline and self.state().get("Running"):
            time.sleep(0.1)
        if self.state().get("Running") or not any("exec format error" in line for line in self.log_tail()):
            return
        raise NotChecked(
            f"{self.platform.image_platform} images cannot run on this engine: no emulation is registered for them "
            "(\"exec format error\"). Register QEMU user emulation (Debian: scripts/qemu-arm64.sh; elsewhere "
            "`docker run --privileged --rm tonistiigi/binfmt --install all`) or run the suite on such a host")

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
        """Remove the container and its masking volumes; never raises. Two threads may ask at once
        (a removal handed to the session's pool, and its sweep at the end): one does it."""
        with self._removing:
            self._remove()

    def _remove(self) -> None:
        if self.container is not None:
            if self.before_remove is not None and not self._removed:
                self._removed = True  # remove() may be called again (a session's sweep): keep once
                try:
                    self.before_remove(self)
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

    @property
    def port(self) -> int:
        """The port it must serve on: the platform's, or the one its $PORT names."""
        return self.constraints.port or self.platform.port

    def host_pid(self) -> int:
        """PID 1 of the container in the Docker host's PID namespace (0 when it is not running)."""
        return self.state().get("Pid") or 0

    def address(self) -> tuple[str, int]:
        """Where the suite reaches port 8080 (`reach`): a published port, or the container's own
        address (on an internal network, or from a container beside it). Either changes after a
        restart, so ask each time."""
        settings = self.reload()["NetworkSettings"]
        if self.internal_network or self.reach.by_address:
            networks = settings.get("Networks") or {}
            wanted = [networks.get(self.internal_network) or {}] if self.internal_network else networks.values()
            ip = next((n.get("IPAddress") for n in wanted if n.get("IPAddress")), "")
            if ip:
                return ip, self.port
            raise NotChecked("the container has no address on its network (it is not running)")
        for binding in (settings.get("Ports") or {}).get(f"{self.port}/tcp") or []:
            if binding.get("HostPort"):
                return self.reach.host, int(binding["HostPort"])
        raise NotChecked("the container has no published port (it is not running)")

    def base_url(self) -> str:
        host, port = self.address()
        return f"http://{host}:{port}"

    def ip_address(self) -> str:
        networks = self.reload()["NetworkSettings"].get("Networks") or {}
        return next((n.get("IPAddress") for n in networks.values() if n.get("IPAddress")), "")

    def host_proc(self, pid: int) -> bool:
        """Whether this host's /proc shows the container's PID 1 as `pid` (see `inside`)."""
        key = (self.container.id, pid)
        if key not in self._host_proc:
            self._host_proc[key] = inside.host_proc_is_the_daemons(self.container.id, pid)
        return self._host_proc[key]

    def listeners(self) -> list[sockets.Listener] | None:
        """The TCP sockets it listens on; None when they could not be read (not running, no reader)."""
        pid = self.host_pid()
        if not pid:
            return None
        if self.host_proc(pid):
            return sockets.read_listeners(pid)
        self.looks_cost_a_container = True
        try:
            return sockets.parse_tables(self._read_inside(["/proc/net/tcp", "/proc/net/tcp6"]))
        except inside.NoReader as exc:
            self.unseen = str(exc)
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            self.unseen = f"the helper container that reads them failed: {first_line(exc)}"
        return None

    def answers_http_inside(self, listener: sockets.Listener, path: str) -> bool:
        """Whether HTTP answers on `listener`, asked from inside the container's network namespace
        (a port the suite cannot reach from where it stands); False when that cannot be asked."""
        host = "127.0.0.1" if listener.all_interfaces else listener.address
        try:
            return bool(inside.answers_http(self.client, self.image.id, self.container.id, host, listener.port, path,
                                            self.labels, known=self.programs))
        except (docker.errors.DockerException, requests.exceptions.RequestException):
            return False

    def pid1(self) -> signals.Pid1:
        """PID 1: its command line and what it does with SIGTERM. From this host's /proc when it is
        the daemon's, else the engine's `top`, else read from inside its PID namespace."""
        pid = self.host_pid()
        if not pid:
            return signals.Pid1("", None)
        if self.host_proc(pid):
            return signals.read_pid1(pid)
        try:
            seen = signals.from_top(self.client.api.top(self.container.id, ps_args=signals.TOP_PS_ARGS), pid)
            if seen is not None:
                return seen
        except (docker.errors.DockerException, requests.exceptions.RequestException, ValueError):
            pass  # Podman's top answers these ps arguments with a body that is not JSON
        try:
            status = self._read_inside(["/proc/1/status"], pid_namespace=True)
            cmdline = self._read_inside(["/proc/1/cmdline"], pid_namespace=True)
        except (inside.NoReader, docker.errors.DockerException, requests.exceptions.RequestException):
            return signals.Pid1("", None)
        return signals.from_proc(status.decode("utf-8", "replace"), cmdline)

    def _read_inside(self, paths: list[str], pid_namespace: bool = False) -> bytes:
        return inside.read_files(self.client, self.image.id, self.container.id, paths, self.labels, pid_namespace,
                                 self.programs)

    def log_tail(self, lines: int = logs.TAIL_LINES) -> list[str]:
        return self.secrets.lines(logs.tail(self.container, lines))

    def client_http(self) -> httpx.Client:
        """An HTTP client on port 8080, every answer read within the budgets."""
        return bounded.make_client(self.base_url(), self.budgets, self.traffic, self.platform)

    def raw_probe(self, timeout_s: float | None = None) -> RawProbe:
        """`probe(path)`: GET on a fresh connection to port 8080, as the platform's probes are sent
        (`wire.rawprobe`); within the budgets, or `timeout_s`."""
        host, port = self.address()
        return RawProbe(host, port, self.budgets, self.traffic, tuple(self.platform.session_headers.items()),
                        self.platform.user_url, timeout_s)

    # -- readiness -------------------------------------------------------------------------------
    def wait_ready(self, budget_s: float, hard_cap_s: float | None = None, poll_s: float = 0.1,
                   on_ready=None, progress=None) -> readiness.Startup:
        """See `readiness.wait_ready`; the result is also kept as `self.startup`."""
        return readiness.wait_ready(self, budget_s, hard_cap_s, poll_s, on_ready, progress)

    def require_serving(self) -> None:
        """Raise NotChecked (→ the check is `error`) unless HTTP answers on 8080."""
        startup = self.startup
        if startup is None or not startup.serving:
            cause = startup.cause() if startup else "the candidate was not started"
            raise NotChecked(cause + (f" {see(startup.blame)}" if startup and startup.blame else ""))


@dataclass(frozen=True)
class CandidateFactory:
    """What every candidate of one run shares (engine, image, labels, budgets, network, log
    keeping): `make(constraints)` gives a new one, not yet started."""

    client: docker.DockerClient
    image: ImageInfo
    run_id: str
    owner: str
    budgets: Budgets
    internal_network: str | None = None
    before_remove: Callable[[Candidate], None] | None = None
    # Shared by every candidate: a stream one of them showed never ends is not waited out again.
    traffic: bounded.Traffic = field(default_factory=bounded.Traffic)
    reach: Reach = LOCAL
    engine_kind: str = "Docker"
    platform: Platform | None = None  # None: the default profile's, natively
    programs: inside.KnownPrograms = field(default_factory=inside.KnownPrograms)
    agent_env: tuple[tuple[str, str], ...] = ()  # the agent's own variables (--env, --env-file, [env])
    setup: tuple = ()  # the agent config's [[setup]] requests (Endpoint), sent each time one is ready

    def make(self, constraints: Constraints = PLATFORM_CONSTRAINTS, check: str = "") -> Candidate:
        return Candidate(self.client, self.image, self.run_id, constraints, owner=self.owner, budgets=self.budgets,
                         internal_network=self.internal_network, before_remove=self.before_remove, check=check,
                         traffic=self.traffic, reach=self.reach, engine_kind=self.engine_kind,
                         platform=self.platform, programs=self.programs, agent_env=self.agent_env,
                         setup=self.setup)
