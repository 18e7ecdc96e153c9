"""A candidate's output: the tail shown in evidence (bounded: a flood may write megabytes without a
newline), and the whole log kept for a certification bundle just before the container goes.

Kept logs are reproducible: named by role and check, never by container name, run ID or PID; the
ephemeral source ports Docker's proxy uses and the container's own ID and name are replaced by
placeholders (the only content rewritten)."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import docker.errors
import requests.exceptions

from .engine import first_line

TAIL_LINES = 30
LINE_CHARS = 500  # a log line shown in evidence; a flood may write megabytes without a newline
KEPT_MAX_BYTES = 2 << 20  # a fuzzed candidate logs every request: keep the tail
# Linux's ephemeral port range starts at 32768: a peer port there is assigned per connection.
_PEER = re.compile(r"(\d{1,3}(?:\.\d{1,3}){3}|\[[0-9A-Fa-f:.]+\]):(\d{5})\b")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def shown_line(line: str) -> str:
    """A log line cut to its start and its end (where an error usually names its cause)."""
    if len(line) <= LINE_CHARS:
        return line
    half = LINE_CHARS // 2
    return f"{line[:half]} … ({len(line) - 2 * half} characters) … {line[-half:]}"


def tail(container, lines: int = TAIL_LINES) -> list[str]:
    """The last `lines` lines of a container's output, each cut to LINE_CHARS."""
    try:
        # Bounded: the log driver splits lines at 16 KiB, and only the last `lines` are sent.
        raw = container.logs(tail=lines, stdout=True, stderr=True)
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        return [f"(logs unavailable: {first_line(exc)})"]
    return [shown_line(line) for line in raw.decode("utf-8", "replace").splitlines()[-lines:]]


def log_name(role: str, check: str, worker: str | None) -> str:
    """`shared` for a session candidate (`shared.gw1` under xdist: each worker has its own), else
    `<check>--<role>`: a check runs on one worker, so its name is the same whatever the split."""
    safe = lambda text: _UNSAFE.sub("_", text).strip("_")  # noqa: E731
    base = f"{safe(check)}--{safe(role)}" if check else (f"{safe(role)}.{worker}" if worker else safe(role))
    return base or "candidate"


def normalise_log(text: str, container_id: str, container_name: str) -> str:
    """Replace what differs between two runs and is not a measurement: the container's ID and
    name (they hold the run ID and a PID) and ephemeral peer ports in access logs."""
    for value, placeholder in ((container_id, "<container-id>"), (container_id[:12], "<container-id>"),
                               (container_name, "<container-name>")):
        if value:
            text = text.replace(value, placeholder)
    return _PEER.sub(lambda m: f"{m.group(1)}:<port>" if int(m.group(2)) >= 32768 else m.group(0), text)


def tail_bytes(chunks, limit: int) -> tuple[bytes, int]:
    """The last `limit` bytes of a stream of chunks, and how many came before them."""
    kept = bytearray()
    omitted = 0
    for chunk in chunks:
        kept += chunk
        if len(kept) > 2 * limit:  # trimmed now and then, not at every chunk
            omitted += len(kept) - limit
            del kept[:-limit]
    if len(kept) > limit:
        omitted += len(kept) - limit
        del kept[:-limit]
    return bytes(kept), omitted


class LogKeeper:
    """Called with each candidate just before it is removed (`Candidate.before_remove`): writes its
    output into `directory` (a certification bundle's logs/), one file per candidate. Thread-safe:
    the lifecycle trials remove their candidates from threads of their own."""

    def __init__(self, directory: Path, worker: str | None):
        self.logs = Path(directory)
        self.worker = worker
        self.kept: set[str] = set()  # container IDs: remove() may run twice
        self.names: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, candidate) -> None:
        container = candidate.container
        name = log_name(candidate.constraints.role, candidate.check, self.worker)
        with self._lock:
            if container is None or container.id in self.kept:
                return
            self.kept.add(container.id)
            unique, n = name, 1
            while unique in self.names:  # the same check starting two candidates of one role
                n += 1
                unique = f"{name}-{n}"
            self.names.add(unique)
        try:
            container.reload()
            state = container.attrs.get("State") or {}
            # Streamed and cut as it comes: a flooded log is never held whole.
            raw, omitted = tail_bytes(container.logs(stdout=True, stderr=True, stream=True, follow=False),
                                      KEPT_MAX_BYTES)
        except Exception as exc:  # noqa: BLE001 - a log we cannot read is said so, not fatal
            state, raw, omitted = {}, f"(logs unavailable: {type(exc).__name__}: {exc})\n".encode(), 0
        text = raw.decode("utf-8", "replace")
        self.logs.mkdir(parents=True, exist_ok=True)
        (self.logs / f"{unique}.log").write_text(
            "\n".join(self._header(candidate, state, omitted)) + "\n"
            + candidate.secrets.text(normalise_log(text, container.id, candidate.name)), encoding="utf-8")

    @staticmethod
    def _header(candidate, state: dict, omitted: int) -> list[str]:
        given = candidate.constraints
        constraints = [("read-only root" if given.read_only_root else "writable root"),
                       ("reserved variables injected" if given.reserved_env else "no reserved variables"),
                       ("volumes masked" if given.mask_volumes else "volumes not masked")]
        status = state.get("Status", "unknown")
        if status in ("exited", "dead"):
            status += f" (exit code {state.get('ExitCode')}{', OOM-killed' if state.get('OOMKilled') else ''})"
        lines = [f"# candidate: role {given.role}" + (f", started by {candidate.check}" if candidate.check else ""),
                 f"# image: {candidate.image.id}",
                 f"# constraints: {', '.join(constraints)}",
                 f"# state when removed: {status}"]
        if omitted:
            lines.append(f"# (the first {omitted} bytes are omitted: the tail is kept)")
        return lines + ["# --- container output (stdout and stderr) ---"]
