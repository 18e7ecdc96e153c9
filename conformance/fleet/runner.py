"""One image's run: `agent-conformance IMAGE --certify DIR …` as a subprocess in a session (a
process group) of its own, its output in a log file, capped in time.

At the cap, or when the batch is stopped, the group gets SIGTERM: the run unwinds as on a CI
cancel (it removes its containers and writes its bundle, the undecided requirements marked
interrupted). After a grace, SIGKILL to the whole group. Then, whatever happened, the engine is
asked for anything still labelled with the run's PID, which is removed: a crash or a kill never
leaves a container behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .engine import Engine
from .plan import Entry

GRACE_S = 30.0  # SIGTERM to SIGKILL: a run's unwinding removes its containers and writes its bundle
POLL_S = 0.2
LOG_TAIL_BYTES = 64 << 10

PASS, FAIL, INCOMPLETE = "pass", "fail", "incomplete"  # a certification that left a MUST unchecked
ERROR, TIMEOUT, CRASH = "error", "timeout", "crash"
VERDICTS = (PASS, FAIL, INCOMPLETE)  # the statuses that carry a verdict; the others are infrastructure


@dataclass
class Outcome:
    """What became of one image. `status` is the verdict (pass, fail, incomplete) or why there is
    none: error (the run's exit 2: usage or infrastructure), timeout (the cap), crash (any other end)."""

    ref: str
    folder: str
    status: str
    exit_code: int | None = None
    duration_s: float = 0.0
    reason: str = ""  # one line, for anything but a verdict
    resumed: bool = False  # a current bundle was found: not run again
    image_id: str = ""
    removed: int = 0  # containers, volumes and networks the batch removed after the run
    failed: list[str] = field(default_factory=list)  # the IDs its bundle says failed or erred

    def as_dict(self) -> dict:
        return asdict(self)


def command(entry: Entry, bundle_dir: Path, cpus: float, extra: tuple[str, ...] = ()) -> list[str]:
    """The run's command line: this Python, so that the batch and its runs are the same suite."""
    argv = [sys.executable, "-m", "conformance.cli", entry.ref, "--certify", str(bundle_dir), "--cpus", f"{cpus:g}"]
    if entry.agent_config:
        argv += ["--agent-config", str(entry.agent_config)]
    if entry.profile:
        argv += ["--profile", entry.profile]
    if entry.vuln_report:
        argv += ["--vuln-report", str(entry.vuln_report)]
    return argv + list(extra)


def run(entry: Entry, out: Path, log: Path, *, timeout_s: float, cpus: float, engine: Engine,
        stop: threading.Event, extra: tuple[str, ...] = ()) -> Outcome:
    """Run one image to its end, its cap, or `stop`; never raises for what the run does."""
    started = time.monotonic()
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as sink:
        try:
            process = subprocess.Popen(command(entry, out / entry.folder, cpus, extra), stdin=subprocess.DEVNULL,
                                       stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
        except OSError as exc:
            return Outcome(entry.ref, entry.folder, ERROR, reason=f"could not start the run: {exc}")
        ended = _wait(process, started + timeout_s, stop)
        if ended is None:
            _terminate(process)
        _kill_group(process.pid)  # a worker or helper process the run left (xdist, a scanner)
        removed = engine.remove_leftovers(process.pid)
    code = process.returncode
    duration = round(time.monotonic() - started, 3)
    outcome = Outcome(entry.ref, entry.folder, _status(code), code, duration, removed=removed)
    if ended is None:
        outcome.status = TIMEOUT
        outcome.reason = (f"stopped: the batch was interrupted" if stop.is_set()
                          else f"did not finish within {timeout_s:g} s (--timeout)")
    elif outcome.status not in VERDICTS:
        outcome.reason = _reason(code, log)
    return outcome


def _wait(process: subprocess.Popen, deadline: float, stop: threading.Event) -> int | None:
    while not stop.is_set():
        try:
            return process.wait(timeout=max(0.0, min(POLL_S, deadline - time.monotonic())))
        except subprocess.TimeoutExpired:
            if time.monotonic() >= deadline:
                return None
    return None


def _terminate(process: subprocess.Popen) -> None:
    _signal_group(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=GRACE_S)
    except subprocess.TimeoutExpired:
        _signal_group(process.pid, signal.SIGKILL)
        process.wait(timeout=GRACE_S)


def _kill_group(pgid: int) -> None:
    _signal_group(pgid, signal.SIGKILL)


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _status(code: int | None) -> str:
    return {0: PASS, 1: FAIL, 2: ERROR}.get(code, CRASH)


def _reason(code: int | None, log: Path) -> str:
    """One line: the run's own message when it gave one (its last error line), else how it ended."""
    how = f"killed by signal {-code}" if code is not None and code < 0 else f"exited with status {code}"
    try:
        with log.open("rb") as handle:
            handle.seek(max(0, log.stat().st_size - LOG_TAIL_BYTES))
            lines = [line.strip() for line in handle.read().decode("utf-8", "replace").splitlines() if line.strip()]
    except OSError:
        lines = []
    said = [line for line in lines if line.startswith(("ERROR", "agent-conformance", "Traceback", "E "))
            or "error" in line.lower()]
    line = (said or lines or [""])[-1]
    return f"{how}: {line[:300]}" if line else how
