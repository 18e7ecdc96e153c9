"""`agent-conformance batch`: many images on one host, each in a run (and bundle) of its own.

`jobs` runs at once. An image whose bundle is current (it verifies, its run ended, and it names
the same image ID, suite version and profile) is not run again, so a batch stopped halfway goes on
where it stopped. One image's error, hang or crash ends that image's run only. Beside the bundles,
`OUT/_batch/<folder>.json` records how each run ended and `<folder>.log` holds its output; the
summary of the whole batch is written into OUT at the end (`summary`)."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from .. import __version__
from ..contract import agent_config, profile
from ..errors import ConfigError
from . import bundles, runner
from .engine import Engine
from .plan import Entry

RECORDS = "_batch"  # an image's folder starts with a letter or digit: never this
EXIT_PASS, EXIT_FAIL, EXIT_ERROR = 0, 1, 2
PER_RUN_MIB = 1536  # a run: the suite (about 150 MiB) and the candidates it has up at once
# A run is mostly the suite's own CPU (about 10 CPU-s for a reference-like image): past one run per
# core the runs only share the cores, and under load the time budgets start to fail (measured on 2
# cores: --jobs 2 kept every verdict, --jobs 4 turned 8 of 20 conformant images to fail).
RUNS_PER_CORE = 1
MAX_DEFAULT_JOBS = 16


@dataclass(frozen=True)
class Settings:
    out: Path
    jobs: int
    timeout_s: float
    cpus: float  # each candidate's CPU limit (the runs' --cpus)
    force: bool = False  # run every image again, current bundle or not
    extra: tuple[str, ...] = ()  # more options for every run


def default_jobs(cores: int | None = None, available_mib: int | None = None) -> int:
    """Runs at once by default: one per core, as far as memory holds PER_RUN_MIB each."""
    cores = cores or os.cpu_count() or 1
    available_mib = _available_mib() if available_mib is None else available_mib
    by_memory = available_mib // PER_RUN_MIB if available_mib else MAX_DEFAULT_JOBS
    return max(1, min(RUNS_PER_CORE * cores, by_memory, MAX_DEFAULT_JOBS))


def _available_mib() -> int:
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def wanted_profile(entry: Entry) -> str:
    """The profile the image's run will check against, as its bundle names it; "" when the run
    will refuse it (it is then run, and says why)."""
    try:
        name = entry.profile or (agent_config.load_config_file(entry.agent_config).profile
                                 if entry.agent_config else "") or profile.DEFAULT
        return profile.load(name).name
    except ConfigError:
        return ""


def current(entry: Entry, out: Path, engine: Engine) -> bundles.Bundle | None:
    """The image's bundle in `out` if it need not be made again, else None."""
    path = out / entry.folder
    if not (path / bundles.bundle.SUMS).is_file():
        return None
    found = bundles.read(path)
    record = read_record(out, entry.folder)
    if not found.verified or not found.complete or (record and record.get("exit_code") not in (0, 1)):
        return None
    image_id = engine.image_id(entry.ref)
    if not image_id or found.image_id != image_id or found.suite_version != __version__:
        return None
    return found if found.profile == wanted_profile(entry) else None


def read_record(out: Path, folder: str) -> dict:
    try:
        record = json.loads((out / RECORDS / f"{folder}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def write_record(out: Path, outcome: runner.Outcome) -> None:
    path = out / RECORDS / f"{outcome.folder}.json"
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(outcome.as_dict(), indent=2) + "\n", encoding="utf-8")
    temporary.replace(path)  # whole or absent: a summary may read it while the batch runs


def run(entries: list[Entry], settings: Settings, *, say: Callable[[str], None],
        progress: Callable[[str], None] = lambda text: None, done: Callable[[], None] = lambda: None,
        engine: Engine | None = None) -> list[runner.Outcome]:
    """Judge every entry; `say` gets a line per image as it ends, `progress` the one live line
    (`done` erases it before each `say`). Ctrl-C or SIGTERM stops the runs under way (each
    unwinds and removes its containers) and raises KeyboardInterrupt once they have."""
    (settings.out / RECORDS).mkdir(parents=True, exist_ok=True)
    engine, stop = engine or Engine(), threading.Event()
    outcomes: dict[str, runner.Outcome] = {}
    started = time.monotonic()
    try:
        todo = []
        for entry in entries:
            found = None if settings.force else current(entry, settings.out, engine)
            if found is None:
                todo.append(entry)
                continue
            verdict = found.report.get("verdict")
            verdict = verdict if verdict in runner.VERDICTS else runner.FAIL
            outcome = runner.Outcome(entry.ref, entry.folder, verdict, 0 if verdict == runner.PASS else 1,
                                     resumed=True, image_id=found.image_id, failed=failed_ids(found),
                                     reason=unchecked(found))
            outcomes[entry.ref] = outcome
            write_record(settings.out, outcome)
            done()
            say(line(outcome))
        running: dict[Future, Entry] = {}
        with _stop_on_sigterm(), ThreadPoolExecutor(max_workers=max(1, settings.jobs)) as pool:
            try:
                for entry in todo:
                    running[pool.submit(_one, entry, settings, engine, stop)] = entry
                while running:
                    finished, _ = wait(running, timeout=0.25, return_when=FIRST_COMPLETED)
                    for future in finished:
                        entry = running.pop(future)
                        outcome = future.result()
                        outcomes[entry.ref] = outcome
                        write_record(settings.out, outcome)
                        done()
                        say(line(outcome))
                    progress(_live(entries, outcomes, started, settings.jobs))
            except KeyboardInterrupt:
                stop.set()  # runs under way unwind; those not started never start
                for future in running:
                    future.cancel()
                for future, entry in running.items():
                    if not future.cancelled():
                        outcome = future.result()
                        write_record(settings.out, outcome)
                raise
    finally:
        done()
        engine.close()
    return [outcomes[e.ref] for e in entries if e.ref in outcomes]


def _one(entry: Entry, settings: Settings, engine: Engine, stop: threading.Event) -> runner.Outcome:
    if stop.is_set():
        return runner.Outcome(entry.ref, entry.folder, runner.TIMEOUT, reason="stopped: the batch was interrupted")
    outcome = runner.run(entry, settings.out, settings.out / RECORDS / f"{entry.folder}.log",
                         timeout_s=settings.timeout_s, cpus=settings.cpus, engine=engine, stop=stop,
                         extra=settings.extra)
    path = settings.out / entry.folder
    if outcome.status in runner.VERDICTS and (path / bundles.bundle.SUMS).is_file():
        made = bundles.read(path)
        outcome.image_id, outcome.failed = made.image_id, failed_ids(made)
        if made.report.get("verdict") == runner.INCOMPLETE:  # exit 1 too: the bundle tells which
            outcome.status, outcome.reason = runner.INCOMPLETE, unchecked(made)
    return outcome


def failed_ids(found: bundles.Bundle) -> list[str]:
    return [r.get("id", "?") for r in found.report.get("requirements", []) if r.get("status") in ("fail", "error")]


def unchecked(found: bundles.Bundle) -> str:
    """Why a certification is incomplete: the MUSTs it did not check."""
    missing = [u.get("id", "?") for u in (found.report.get("completeness") or {}).get("unchecked_must") or []]
    return f"MUST not checked: {', '.join(missing)}" if missing else ""


class _stop_on_sigterm:
    """A CI cancel (SIGTERM) stops the batch as Ctrl-C does; only in the main thread."""

    def __enter__(self):
        self._before = None
        if threading.current_thread() is threading.main_thread():
            self._before = signal.signal(signal.SIGTERM, _interrupt)
        return self

    def __exit__(self, *exc) -> None:
        if self._before is not None:
            signal.signal(signal.SIGTERM, self._before)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def exit_status(outcomes: list[runner.Outcome], expected: int) -> int:
    """0 every image passed; 2 any image got no verdict (or was not reached); else 1 (a failed or
    an incomplete certification)."""
    if len(outcomes) < expected or any(o.status not in runner.VERDICTS for o in outcomes):
        return EXIT_ERROR
    return EXIT_PASS if all(o.status == runner.PASS for o in outcomes) else EXIT_FAIL


def line(outcome: runner.Outcome) -> str:
    """An image's line when it ends: status, time, reference, and why when there is no verdict."""
    took = "resumed" if outcome.resumed else f"{outcome.duration_s:6.1f} s"
    text = f"{outcome.status:<7} {took:>8}  {outcome.ref}"
    if outcome.status == runner.FAIL and outcome.failed:
        text += f"  {', '.join(outcome.failed)}"
    return text + (f"  ({outcome.reason})" if outcome.reason else "")


def _live(entries: list[Entry], outcomes: dict[str, runner.Outcome], started: float, jobs: int) -> str:
    counts = {s: sum(o.status == s for o in outcomes.values()) for s in runner.VERDICTS}
    others = len(outcomes) - sum(counts.values())
    return (f"batch: {len(outcomes)}/{len(entries)} done, {counts['pass']} pass, {counts['fail']} fail, "
            + (f"{counts['incomplete']} incomplete, " if counts["incomplete"] else "")
            + f"{others} without a verdict; {min(jobs, len(entries) - len(outcomes))} running; "
            f"{time.monotonic() - started:.0f} s")
