"""The places the suite must give the same verdict in, made on this machine offline:

- `local`: the suite on the daemon's host, in its PID namespace (the shortcuts through /proc work);
- `host-blind`: the suite in a PID namespace of its own, the daemon's data directory hidden
  (`unshare`): what it sees of Docker Desktop's VM or of a remote daemon;
- `in-container`: the suite in a container of its own image beside the mounted socket (GitLab's
  docker executor, dev containers);
- `dind`: a `dockerd` in a privileged container, reached over TCP through DOCKER_HOST, the
  sample images copied into it (GitLab's `docker:dind` service);
- `podman`: Podman's Docker-compatible socket (see `scripts/engine-modes/podman.sh`).

`entered(mode, images)` sets a mode up and yields how to run a Python module inside it (a command
prefix that stands for `python`, and the environment); leaving removes what it made.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import docker

from conformance.errors import InfrastructureError

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "scripts" / "engine-modes"
MODES = ("local", "host-blind", "in-container", "dind", "podman")
MODE_LABEL = "org.agent-conformance.engine-mode"
_SETUP_TIMEOUT_S = 900


@dataclass
class Mode:
    name: str
    python: list[str]  # stands for `python` inside the mode
    env: dict[str, str] = field(default_factory=dict)
    mounts: list[Path] = field(default_factory=list)  # host folders the command must see (in-container)


def _data_root() -> str:
    try:
        return docker.from_env(timeout=30).info().get("DockerRootDir") or "/var/lib/docker"
    except docker.errors.DockerException:
        return "/var/lib/docker"


def _script(name: str, *args: str, env: dict[str, str] | None = None) -> str:
    """Run scripts/engine-modes/NAME ARGS; its last line of output is what it reports."""
    try:
        done = subprocess.run([str(SCRIPTS / name), *args], capture_output=True, text=True,
                              timeout=_SETUP_TIMEOUT_S, env={**os.environ, **(env or {})})
    except subprocess.TimeoutExpired:
        raise InfrastructureError(f"{name} {' '.join(args)} did not finish within {_SETUP_TIMEOUT_S} s") from None
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-10:])
        raise InfrastructureError(f"{name} {' '.join(args)} failed (exit {done.returncode}):\n{tail}")
    return (done.stdout.strip().splitlines() or [""])[-1]


@contextlib.contextmanager
def entered(name: str, images: list[str] = ()) -> Iterator[Mode]:
    """Mode NAME, set up with `images` available to its engine; torn down on leaving."""
    if name == "local":
        yield Mode(name, [sys.executable])
    elif name == "host-blind":
        hide = f'mount -t tmpfs tmpfs {_data_root()} && exec "$@"'
        yield Mode(name, ["unshare", "--pid", "--fork", "--mount-proc", "--mount", "sh", "-c", hide, "sh",
                          sys.executable])
    elif name == "in-container":
        from . import suite_image
        image = suite_image.ensure(docker.from_env(timeout=900))
        socket = "/var/run/docker.sock"
        yield Mode(name, ["docker", "run", "--rm", "-i", "--label", f"{MODE_LABEL}=in-container",
                          "-v", f"{socket}:{socket}", "-v", f"{ROOT}:{ROOT}", "-w", str(ROOT),
                          "--entrypoint", "python", image])
    elif name in ("dind", "podman"):
        # No host route into Docker-in-Docker's networks: as from a GitLab job beside a dind
        # service, only the ports it publishes are reachable.
        env = {"DIND_ROUTE": "0"}
        try:
            host = _script(f"{name}.sh", "up", env=env).removeprefix("DOCKER_HOST=")
            if images:
                _script(f"{name}.sh", "load", *images, env=env)
            yield Mode(name, [sys.executable], {"DOCKER_HOST": host})
        finally:
            _script(f"{name}.sh", "down", env=env)
    else:
        raise InfrastructureError(f"no engine mode {name!r}: the modes are {', '.join(MODES)}")
