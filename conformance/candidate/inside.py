"""Reading a candidate's namespaces wherever the Docker API answers.

The fast way is the daemon host's /proc, which the suite sees only when it shares the daemon's PID
namespace (a local rootful engine). Elsewhere (Docker Desktop's VM, Docker-in-Docker, a remote
DOCKER_HOST, the suite in a container of its own, Podman) the same files are read by a short-lived
helper container that joins the candidate's network (and, for PID 1, PID) namespace. The engine
pulls nothing, so the helper runs the candidate's own image with its entrypoint replaced by the
first reader the image has: `cat`, busybox's, or an interpreter. An image with none (FROM scratch,
distroless) is read with `cat` from AGENT_CONFORMANCE_HELPER_IMAGE (e.g. busybox) if that image is
in the engine. The evidence is the same text whichever way it was read; only the time differs.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import docker
import docker.errors
import requests.exceptions

from .labels import LABEL_ROLE

HELPER_TIMEOUT_S = 10.0
_MAX_OUTPUT = 1 << 20
# Python and Node.js copy each named file to stdout, in order, as `cat` does.
_PY = "import sys\nfor p in sys.argv[1:]:\n    sys.stdout.buffer.write(open(p, 'rb').read())"
_JS = "for (const p of process.argv.slice(1)) process.stdout.write(require('fs').readFileSync(p))"
READERS: tuple[tuple[str, ...], ...] = (
    ("cat",), ("busybox", "cat"), ("python3", "-c", _PY), ("python", "-c", _PY), ("node", "-e", _JS),
)
ROLE = "helper"
HELPER_IMAGE_VARIABLE = "AGENT_CONFORMANCE_HELPER_IMAGE"

# HTTP from inside, for a port the suite cannot reach: the first line of the answer, or nothing.
_PY_HTTP = ("import socket, sys\ns = socket.create_connection((sys.argv[1], int(sys.argv[2])), 2)\n"
            "s.sendall(('GET %s HTTP/1.0\\r\\nHost: %s\\r\\n\\r\\n' % (sys.argv[3], sys.argv[1])).encode())\n"
            "s.settimeout(2)\nsys.stdout.write(s.recv(64).decode('latin-1'))")
_JS_HTTP = ("const [h, p, u] = process.argv.slice(1); const s = require('net').connect(+p, h, () => "
            "s.write(`GET ${u} HTTP/1.0\\r\\nHost: ${h}\\r\\n\\r\\n`)); s.on('data', d => { "
            "process.stdout.write(d.slice(0, 64)); process.exit(0) }); s.on('error', () => process.exit(1)); "
            "setTimeout(() => process.exit(1), 2000)")
HTTP_CLIENTS: tuple[tuple[str, ...], ...] = (
    ("python3", "-c", _PY_HTTP, "{host}", "{port}", "{path}"), ("python", "-c", _PY_HTTP, "{host}", "{port}", "{path}"),
    ("node", "-e", _JS_HTTP, "{host}", "{port}", "{path}"),
    ("curl", "-s", "-o", "/dev/null", "-m", "2", "-w", "HTTP/%{http_code}", "http://{host}:{port}{path}"),
)



class KnownPrograms:
    """Which reader and which HTTP client worked in each image (None: none did), so a run's
    candidates stop trying programs the image lacks; shared by the candidates of one run."""

    def __init__(self) -> None:
        self.reader: dict[str, tuple[str, ...] | None] = {}  # image ID → the program that worked
        self.http_client: dict[str, tuple[str, ...] | None] = {}
        self.lock = threading.Lock()


class NoReader(Exception):
    """The image has no program that can copy a file to stdout: the helper cannot read."""


def host_proc_is_the_daemons(container_id: str, pid: int, proc: Path = Path("/proc")) -> bool:
    """Whether `/proc/<pid>` here is the container's PID 1: true only when this process shares the
    daemon's PID namespace. A PID the engine reports means another process, or none, in any other
    namespace, so the cgroup of the process must name the container."""
    if not pid:
        return False
    try:
        with open(proc / str(pid) / "cgroup", encoding="ascii", errors="replace") as cgroup:
            return container_id in cgroup.read(1 << 16)
    except OSError:
        return False


def read_files(client: docker.DockerClient, image_id: str, container_id: str, paths: list[str],
               labels: dict[str, str], pid_namespace: bool = False, known: KnownPrograms | None = None) -> bytes:
    """The bytes of `paths`, concatenated, as seen from inside the container's network namespace
    (and its PID namespace when `pid_namespace`). Raises NoReader, or Docker's error."""
    known = known or KnownPrograms()
    output = _first_that_runs(client, image_id, container_id, labels, pid_namespace, READERS,
                              (known.reader, known.lock), lambda reader: [*reader, *paths])
    if output is None:
        return _read_with_helper_image(client, image_id, container_id, paths, labels, pid_namespace)
    return output


def answers_http(client: docker.DockerClient, image_id: str, container_id: str, host: str, port: int, path: str,
                 labels: dict[str, str], known: KnownPrograms | None = None) -> bool | None:
    """Whether HTTP answers at host:port inside the container's network namespace (for a port
    the suite cannot reach from where it stands); None when the image has no client to ask with."""
    known = known or KnownPrograms()
    output = _first_that_runs(client, image_id, container_id, labels, False, HTTP_CLIENTS,
                              (known.http_client, known.lock), lambda template: [part.replace("{host}", host).replace("{port}", str(port))
                                                .replace("{path}", path) for part in template])
    if output is None:
        return None
    text = output.decode("latin-1", "replace")
    return text.startswith("HTTP/") and not text.startswith("HTTP/000")


def _first_that_runs(client: docker.DockerClient, image_id: str, container_id: str, labels: dict[str, str],
                     pid_namespace: bool, programs: tuple[tuple[str, ...], ...],
                     known: tuple[dict[str, tuple[str, ...] | None], threading.Lock], command) -> bytes | None:
    """The output of the first of `programs` the image has, run as `command(program)` in a helper;
    None when it has none. Which one worked (or that none did) is remembered per image in `known`
    (a `KnownPrograms` table and its lock)."""
    known, _lock = known
    with _lock:
        remembered = known.get(image_id, ())
    if remembered is None:
        return None
    for program in ([remembered] if remembered else programs):
        try:
            output = _run(client, image_id, container_id, command(program), labels, pid_namespace)
        except docker.errors.APIError as exc:
            if _missing_program(exc):
                continue
            raise
        with _lock:
            known[image_id] = program
        return output
    with _lock:
        known[image_id] = None
    return None


def _read_with_helper_image(client: docker.DockerClient, image_id: str, container_id: str, paths: list[str],
                            labels: dict[str, str], pid_namespace: bool) -> bytes:
    helper = os.environ.get(HELPER_IMAGE_VARIABLE, "").strip()
    if not helper:
        raise NoReader(_no_reader(image_id))
    try:
        return _run(client, helper, container_id, ["cat", *paths], labels, pid_namespace)
    except docker.errors.APIError as exc:
        raise NoReader(f"{_no_reader(image_id)}, and {HELPER_IMAGE_VARIABLE}={helper} could not read it either: "
                       f"{str(exc).splitlines()[0][:200]}") from None


def _no_reader(image_id: str) -> str:
    names = ", ".join(" ".join(r[:2]) if r[0] == "busybox" else r[0] for r in READERS)
    return (f"the image has none of {names} to read the container's /proc with from here "
            f"(set {HELPER_IMAGE_VARIABLE} to an image with `cat` in the engine, e.g. busybox)")


def _missing_program(exc: docker.errors.APIError) -> bool:
    text = str(exc).lower()
    return any(s in text for s in ("executable file not found", "no such file or directory", "not found in $path"))


def _run(client: docker.DockerClient, image_id: str, container_id: str, command: list[str],
         labels: dict[str, str], pid_namespace: bool) -> bytes:
    api = client.api
    host_config = api.create_host_config(
        network_mode=f"container:{container_id}",
        pid_mode=f"container:{container_id}" if pid_namespace else None,
        read_only=True, security_opt=["no-new-privileges"], cap_drop=["ALL"],
        mem_limit="64m", pids_limit=16,
    )
    helper = api.create_container(image_id, entrypoint=command[:1], command=command[1:], host_config=host_config,
                                  labels={**labels, LABEL_ROLE: ROLE}, network_disabled=False)
    try:
        api.start(helper["Id"])
        try:
            api.wait(helper["Id"], timeout=HELPER_TIMEOUT_S)
        except requests.exceptions.RequestException:
            raise docker.errors.APIError(f"the helper did not finish within {HELPER_TIMEOUT_S:g} s") from None
        return api.logs(helper["Id"], stdout=True, stderr=False)[:_MAX_OUTPUT]
    finally:
        try:
            api.remove_container(helper["Id"], force=True)
        except (docker.errors.DockerException, requests.exceptions.RequestException):
            pass  # labelled: the run's sweep removes it
