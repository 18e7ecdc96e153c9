"""SIGTERM as the platform sends it: how long the container takes to exit and with which code, and
what PID 1 is and does with SIGTERM (its disposition: read from /proc on the daemon's host, from the
engine's `top` (ps on the daemon's host), or from inside: `Candidate.pid1`). Our own wait is bounded:
past `give_up_s(grace_s)` the container is killed. Why a stop was slow is `lifecycle.stop_causes`'.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import docker.errors
import requests.exceptions

from .engine import first_line

KUBERNETES_GRACE_S = 10.0  # terminationGracePeriodSeconds' default; a run passes its profile's


def give_up_s(grace_s: float) -> float:
    """How long our wait for an exit after SIGTERM lasts: the platform's grace and a margin."""
    return grace_s + 2.0

SIGTERM_NUMBER = 15
_CMDLINE_BYTES = 1024
_DOCKER_ERRORS = (docker.errors.DockerException, requests.exceptions.RequestException)


def catches_signal(proc_status: str, number: int = SIGTERM_NUMBER, mask: str = "SigCgt") -> bool | None:
    """Whether `/proc/<pid>/status` shows a handler for the signal (`SigCgt` bit; `SigIgn`: set to be
    ignored), None if unreadable."""
    for line in proc_status.splitlines():
        if line.startswith(f"{mask}:"):
            return bool(int(line.split(":", 1)[1].strip(), 16) >> (number - 1) & 1)
    return None


@dataclass(frozen=True)
class Pid1:
    command: str  # "/bin/sh -c python agent.py"; "" when it could not be read
    catches_term: bool | None
    ignores_term: bool = False  # SIGTERM set to SIG_IGN: only SIGKILL stops it


def read_pid1(host_pid: int) -> Pid1:
    """PID 1 of the container, seen from the Docker host's /proc."""
    try:
        with open(f"/proc/{host_pid}/cmdline", "rb") as cmdline:  # a command line can be megabytes long
            raw = cmdline.read(_CMDLINE_BYTES)
        status = Path(f"/proc/{host_pid}/status").read_text()
    except OSError:
        return Pid1("", None)
    return from_proc(status, raw)


def from_proc(status: str, cmdline: bytes) -> Pid1:
    """PID 1 from the text of its /proc/<pid>/status and the bytes of its cmdline."""
    command = cmdline[:_CMDLINE_BYTES].replace(b"\0", b" ").decode("utf-8", "replace").strip()
    return Pid1(command, catches_signal(status), bool(catches_signal(status, mask="SigIgn")))


TOP_PS_ARGS = "-o pid,caught,ignored,args"  # procps' ps: the masks of caught and ignored signals, in hex


def from_top(top: dict, host_pid: int, number: int = SIGTERM_NUMBER) -> Pid1 | None:
    """PID 1 from the engine's `top` answer for TOP_PS_ARGS; None when it lacks the columns (the
    daemon's host has another ps, or the engine is Podman, whose top has its own descriptors)."""
    titles = [t.upper() for t in top.get("Titles") or []]
    if not {"PID", "CAUGHT", "IGNORED"} <= set(titles) or titles[-1] not in ("COMMAND", "ARGS", "CMD"):
        return None
    for row in top.get("Processes") or []:
        fields = dict(zip(titles, row))
        if str(fields.get("PID", "")).strip() != str(host_pid):
            continue
        try:
            caught, ignored = (int(str(fields[k]).strip(), 16) for k in ("CAUGHT", "IGNORED"))
        except ValueError:
            return None
        return Pid1(str(row[-1])[:_CMDLINE_BYTES].strip(), bool(caught >> (number - 1) & 1),
                    bool(ignored >> (number - 1) & 1))
    return None


@dataclass
class Shutdown:
    """One SIGTERM and what followed."""

    when: str  # "idle", "while POST /chat streamed"
    pid1: Pid1
    elapsed_s: float | None = None  # None: still running at give_up_s() (then killed)
    exit_code: int | None = None
    error: str = ""  # Docker refused the signal, …
    stream: str = ""  # mid-stream: what the client saw
    grace_s: float = KUBERNETES_GRACE_S  # the platform's: SIGKILL this long after SIGTERM

    @property
    def graceful(self) -> bool:
        return self.elapsed_s is not None and self.elapsed_s <= self.grace_s

    def summary(self) -> str:
        if self.error:
            return f"SIGTERM {self.when}: {self.error}"
        if self.elapsed_s is None:
            line = f"SIGTERM {self.when}: still running {give_up_s(self.grace_s):g} s later; killed (exit code {self.exit_code})"
        else:
            line = f"SIGTERM {self.when}: exited {self.elapsed_s:.2f} s later with code {self.exit_code}"
        return line + (f"; the stream {self.stream}" if self.stream else "")


def sigterm(container, when: str, pid1: Pid1, grace_s: float) -> Shutdown:
    """Send SIGTERM, wait for the exit up to give_up_s(grace_s), then SIGKILL. The container stays
    (exited). `pid1`: what PID 1 was just before; `grace_s`: the platform's grace."""
    result = Shutdown(when, pid1, grace_s=grace_s)
    try:
        sent = time.monotonic()
        container.kill(signal="SIGTERM")
        try:
            status = container.wait(timeout=give_up_s(grace_s), condition="not-running")
            result.elapsed_s = time.monotonic() - sent
        except requests.exceptions.RequestException:  # our own deadline: it ignored SIGTERM
            container.kill()
            status = container.wait(timeout=give_up_s(grace_s), condition="not-running")
        result.exit_code = status.get("StatusCode")
    except _DOCKER_ERRORS as exc:
        result.error = f"Docker could not signal or wait for the container: {first_line(exc)}"
    return result
