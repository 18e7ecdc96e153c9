"""Reading a candidate's namespaces wherever the Docker API answers.

The fast way is the daemon host's /proc, which the suite sees only when it shares the daemon's PID
namespace (a local rootful engine). Elsewhere (Docker Desktop's VM, Docker-in-Docker, a remote
DOCKER_HOST, the suite in a container of its own, Podman) the same files are read by a short-lived
helper container that joins the candidate's network (and, for PID 1, PID) namespace. The engine
pulls nothing, so the helper runs the candidate's own image with its entrypoint replaced by the
first reader the image has: `cat`, busybox's, or an interpreter. The evidence is the same text
whichever way it was read; only the time differs.
"""

from __future__ import annotations

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

_reader_of_image: dict[str, tuple[str, ...] | None] = {}  # image ID → the reader that worked (None: none)
_lock = threading.Lock()


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
               labels: dict[str, str], pid_namespace: bool = False) -> bytes:
    """The bytes of `paths`, concatenated, as seen from inside the container's network namespace
    (and its PID namespace when `pid_namespace`). Raises NoReader, or Docker's error."""
    with _lock:
        known = _reader_of_image.get(image_id, ())
    if known is None:
        raise NoReader(_no_reader(image_id))
    for reader in ([known] if known else READERS):
        try:
            output = _run(client, image_id, container_id, [*reader, *paths], labels, pid_namespace)
        except docker.errors.APIError as exc:
            if _missing_program(exc):
                continue
            raise
        with _lock:
            _reader_of_image[image_id] = reader
        return output
    with _lock:
        _reader_of_image[image_id] = None
    raise NoReader(_no_reader(image_id))


def _no_reader(image_id: str) -> str:
    names = ", ".join(" ".join(r[:2]) if r[0] == "busybox" else r[0] for r in READERS)
    return f"the image {image_id[7:19]} has none of {names} to read the container's /proc with"


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
