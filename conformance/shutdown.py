"""SIGTERM as the platform sends it: how long the container takes to exit, with which code, and
why when it is slow (a shell-form CMD, a PID 1 that has no SIGTERM handler, a server waiting on
in-flight streams). Our own wait is bounded: past `GIVE_UP_S` the container is killed.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

import docker.errors
import httpx
import requests.exceptions

from . import bounded, endpoints
from .config import Endpoint
from .engine import first_line

GRACE_S = 10.0  # Kubernetes' default terminationGracePeriodSeconds is 30; the contract says 10
GIVE_UP_S = 12.0
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
    command: str  # "/bin/sh -c python agent.py"; "" when /proc is not readable from here
    catches_term: bool | None
    ignores_term: bool = False  # SIGTERM set to SIG_IGN: only SIGKILL stops it


def read_pid1(host_pid: int) -> Pid1:
    """PID 1 of the container, seen from the Docker host's /proc."""
    try:
        with open(f"/proc/{host_pid}/cmdline", "rb") as cmdline:  # a command line can be megabytes long
            raw = cmdline.read(_CMDLINE_BYTES)
        command = raw.replace(b"\0", b" ").decode("utf-8", "replace").strip()
        status = Path(f"/proc/{host_pid}/status").read_text()
    except OSError:
        return Pid1("", None)
    return Pid1(command, catches_signal(status), bool(catches_signal(status, mask="SigIgn")))


def is_shell_form(start_command: tuple[str, ...] | list[str]) -> bool:
    """Docker turns `CMD python app.py` into `/bin/sh -c "python app.py"`."""
    return len(start_command) >= 2 and start_command[0] in ("/bin/sh", "sh", "/bin/bash") and start_command[1] == "-c"


def likely_causes(start_command, pid1: Pid1, mid_stream: bool) -> list[str]:
    """Why a container did not exit within the grace period, most likely first."""
    causes = []
    if is_shell_form(start_command):
        causes.append(f"shell-form start command ({' '.join(start_command)!r}): /bin/sh is PID 1, has no SIGTERM "
                      'handler and does not forward it; use the exec form, e.g. CMD ["python", "agent.py"]')
        return causes
    if pid1.ignores_term:
        causes.append(f"PID 1 ({pid1.command or 'unknown'}) ignores SIGTERM (its disposition is SIG_IGN): only the "
                      "kill at the deadline stops it; let SIGTERM end the process (uvicorn and gunicorn do)")
    elif pid1.catches_term is False:
        causes.append(f"PID 1 ({pid1.command or 'unknown'}) has no SIGTERM handler: the kernel ignores SIGTERM for "
                      "PID 1 without one; use a server that handles it (uvicorn, gunicorn) or an init such as tini")
    elif pid1.catches_term:
        during = "with a stream in flight " if mid_stream else ""
        causes.append(f"PID 1 ({pid1.command}) handles SIGTERM but does not exit {during}within {GRACE_S:g} s: bound "
                      "its graceful shutdown (e.g. uvicorn --timeout-graceful-shutdown 5) and end open streams")
    if not causes:
        causes.append(f"PID 1 ({pid1.command or 'unknown'}) did not exit within {GRACE_S:g} s of SIGTERM")
    return causes


@dataclass
class Shutdown:
    """One SIGTERM and what followed."""

    when: str  # "idle", "while POST /chat streamed"
    pid1: Pid1
    elapsed_s: float | None = None  # None: still running at GIVE_UP_S (then killed)
    exit_code: int | None = None
    error: str = ""  # Docker refused the signal, …
    stream: str = ""  # mid-stream: what the client saw

    @property
    def graceful(self) -> bool:
        return self.elapsed_s is not None and self.elapsed_s <= GRACE_S

    def summary(self) -> str:
        if self.error:
            return f"SIGTERM {self.when}: {self.error}"
        if self.elapsed_s is None:
            line = f"SIGTERM {self.when}: still running {GIVE_UP_S:g} s later; killed (exit code {self.exit_code})"
        else:
            line = f"SIGTERM {self.when}: exited {self.elapsed_s:.2f} s later with code {self.exit_code}"
        return line + (f"; the stream {self.stream}" if self.stream else "")


def sigterm(container, when: str, host_pid: int) -> Shutdown:
    """Send SIGTERM, wait for the exit up to GIVE_UP_S, then SIGKILL. The container stays (exited)."""
    result = Shutdown(when, read_pid1(host_pid))
    try:
        sent = time.monotonic()
        container.kill(signal="SIGTERM")
        try:
            status = container.wait(timeout=GIVE_UP_S, condition="not-running")
            result.elapsed_s = time.monotonic() - sent
        except requests.exceptions.RequestException:  # our own deadline: it ignored SIGTERM
            container.kill()
            status = container.wait(timeout=GIVE_UP_S, condition="not-running")
        result.exit_code = status.get("StatusCode")
    except _DOCKER_ERRORS as exc:
        result.error = f"Docker could not signal or wait for the container: {first_line(exc)}"
    return result


class StreamInFlight:
    """An SSE request on a declared endpoint, read in a thread so SIGTERM can arrive mid-stream.
    The thread owns `client` (closed when the stream ends) and reads within its budgets."""

    def __init__(self, client: httpx.Client, endpoint: Endpoint):
        self.endpoint = endpoint
        self.client = client
        self.limits = bounded.within(bounded.budgets_of(client), endpoints.SSE_MODE)
        self.status: int | None = None
        self.received = 0
        self.ended = ""  # "completed" | "cut: …"
        self.answered = threading.Event()  # the response began (status and headers) or the request failed
        self._thread = threading.Thread(target=self._read, name="sigterm-stream", daemon=True)

    def start(self) -> bool:
        """Start the request; True once the response has begun and not yet ended (in flight). The
        headers are the earliest sign: a short stream may be over by its first event."""
        self._thread.start()
        self.answered.wait(self.limits.head_s + 1)
        return self.status is not None and not self.ended

    def _read(self) -> None:
        headers = {"Accept": endpoints.SSE_MODE}
        body = self.endpoint.body_bytes()
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            with self.client, self.client.stream(self.endpoint.method, self.endpoint.path, headers=headers,
                                                 content=body) as response:
                self.status = response.status_code
                self.answered.set()
                for chunk in response.iter_raw():
                    self.received += len(chunk)
            self.ended = "completed"
        except httpx.TimeoutException:
            self.ended = (f"was still streaming {self.limits.total_s:g} s after it began (abandoned)"
                          if self.status is not None else f"sent no response head ({self.limits.no_head()})")
        except httpx.HTTPError as exc:
            self.ended = f"was cut ({type(exc).__name__})"
        finally:
            self.answered.set()

    def finish(self) -> str:
        self._thread.join(self.limits.total_s + 1)
        if self._thread.is_alive():
            return f"was still open {self.limits.total_s:g} s after SIGTERM ({self.received} bytes received)"
        if self.ended == "completed":
            return f"ended cleanly ({self.received} bytes received)"
        return f"{self.ended} after {self.received} bytes"
