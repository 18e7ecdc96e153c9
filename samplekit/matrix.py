"""`agent-conformance matrix [NAME …]`: build every sample agent, run the suite on each, and compare
what it decides with the sample's expected.toml — the comparison tests/integration/test_matrix.py
asserts. Prints, per agent, the expected and actual failing IDs.

Exit status: 0 every sample as expected, 1 any mismatch, 2 a build or infrastructure error.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from conformance.errors import InfrastructureError
from conformance.report.results import NOT_IMPLEMENTED, Status

from . import engine_modes, samples

# Skipped even for a conformant agent where no scanner report or scanner is available.
MAY_SKIP = frozenset({"NO-CRITICAL-VULNS"})
RUN_TIMEOUT_S = 600.0


def implemented(report: dict) -> set[str]:
    """The IDs the run had a check of (the others are `skip: not implemented`)."""
    return {r["id"] for r in report["requirements"] if r["evidence"] != [NOT_IMPLEMENTED]}


def compare(expected: samples.Expected, report: dict | None, returncode: int) -> list[str]:
    """Every way the run differs from the expectation; [] when it matches."""
    if report is None:
        return [f"no report written (exit {returncode})"]
    statuses = {r["id"]: r["status"] for r in report["requirements"]}
    ids = {s: {i for i, st in statuses.items() if st == s} for s in Status}
    checked = implemented(report)
    problems = []
    if ids[Status.FAIL] != expected.fail:
        problems.append(f"fail: expected {_ids(expected.fail)}, got {_ids(ids[Status.FAIL])}")
    # "runtime" names every requirement that needs a container; only those with checks can error.
    if ids[Status.ERROR] != expected.error & checked:
        problems.append(f"error: expected {_ids(expected.error & checked)}, got {_ids(ids[Status.ERROR])}")
    not_passed = sorted(i for i in expected.passes if statuses.get(i) != "pass")
    if not_passed:
        problems.append(f"expected to pass: {', '.join(f'{i} ({statuses.get(i)})' for i in not_passed)}")
    if report["verdict"] != expected.verdict:
        problems.append(f"verdict: expected {expected.verdict}, got {report['verdict']}")
    want_code = 0 if expected.verdict == "pass" else 1
    if returncode != want_code:
        problems.append(f"exit status: expected {want_code}, got {returncode}")
    if expected.verdict == "pass" and not expected.fail:
        unexpected = sorted(i for i in checked - MAY_SKIP if statuses.get(i) != "pass")
        if unexpected:
            problems.append(f"conformant, yet not pass: {', '.join(f'{i} ({statuses[i]})' for i in unexpected)}")
    return problems


def _ids(ids) -> str:
    return ", ".join(sorted(ids)) or "-"


@dataclass
class SampleResult:
    """One sample's run: its report, and every way it differs from the sample's expected.toml."""

    sample: samples.Sample
    returncode: int = -1
    report: dict | None = None
    elapsed_s: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def failing(self) -> set[str]:
        return {r["id"] for r in (self.report or {}).get("requirements", []) if r["status"] == "fail"}


class SampleRunner:
    """Runs `agent-conformance SAMPLE` as a child process per sample; interrupts them all on Ctrl-C."""

    def __init__(self, reports: Path, extra: list[str], timeout_s: float):
        self.reports, self.extra, self.timeout_s = reports, extra, timeout_s
        self.processes: set[subprocess.Popen] = set()
        self.lock = threading.Lock()

    def run(self, sample: samples.Sample) -> SampleResult:
        report_path = self.reports / f"{sample.name.replace('/', '-')}.json"
        report_path.unlink(missing_ok=True)
        argv = [sys.executable, "-m", "conformance.cli", sample.tag, "--report-json", str(report_path), "-q"]
        if sample.agent_config:
            argv += ["--agent-config", str(sample.agent_config)]
        argv += ["--", *self.extra] if self.extra else []
        started = time.monotonic()
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        with self.lock:
            self.processes.add(process)
        try:
            _, stderr = process.communicate(timeout=self.timeout_s)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGINT)  # the suite removes its containers on SIGINT
            try:
                process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()
            stderr = f"did not finish within {self.timeout_s:g} s"
        finally:
            with self.lock:
                self.processes.discard(process)
        result = SampleResult(sample, process.returncode, None, time.monotonic() - started)
        if report_path.exists():
            result.report = json.loads(report_path.read_text())
        result.problems = compare(sample.expected, result.report, process.returncode)
        if result.report is None and stderr.strip():
            result.problems.append(stderr.strip().splitlines()[-1])
        return result

    def interrupt(self) -> None:
        with self.lock:
            for process in self.processes:
                process.send_signal(signal.SIGINT)


def render(outcomes: list[SampleResult]) -> list[str]:
    width = max([len(o.sample.name) for o in outcomes] + [6])
    lines = [f"{'SAMPLE':<{width}}  {'RESULT':<8}  {'VERDICT':<9}  EXPECTED FAILING  →  ACTUAL FAILING"]
    for o in outcomes:
        actual = (o.report or {}).get("verdict", "none")
        verdict = actual if actual == o.sample.expected.verdict else f"{actual}≠{o.sample.expected.verdict}"
        result = "ok" if not o.problems else "MISMATCH"
        lines.append(f"{o.sample.name:<{width}}  {result:<8}  {verdict:<9}  {_ids(o.sample.expected.fail)}  →  "
                     f"{_ids(o.failing) if o.report else '(no report)'}   ({o.elapsed_s:.1f} s)")
        lines += [f"{'':<{width}}    {problem}" for problem in o.problems]
    bad = sum(1 for o in outcomes if o.problems)
    lines.append(f"{len(outcomes)} samples: {len(outcomes) - bad} as expected, {bad} mismatched")
    return lines


def main(argv: list[str], extra: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="agent-conformance matrix", description=__doc__.split("\n\n")[0],
                                     epilog="Arguments after `--` go to each run's pytest. Exit status: 0 every "
                                     "sample as expected, 1 any mismatch, 2 build or infrastructure error.")
    parser.add_argument("names", nargs="*", help="sample names, e.g. reference broken/health-204 (default: all)")
    parser.add_argument("-j", "--jobs", type=int, default=2, help="samples run at once (default 2)")
    parser.add_argument("--no-build", action="store_true", help="use the sample images already built")
    parser.add_argument("--reports", metavar="DIR", help="keep each sample's report.json in DIR")
    parser.add_argument("--timeout", type=float, default=RUN_TIMEOUT_S, metavar="SECONDS",
                        help=f"per sample (default {RUN_TIMEOUT_S:g})")
    parser.add_argument("--engine-mode", choices=engine_modes.MODES, default="local",
                        help="where the suite runs and which engine it uses (default: local; see docs/ci.md)")
    args = parser.parse_args(argv)
    log = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731
    try:
        if args.no_build:
            chosen = [s for s in samples.discover() if not args.names or s.name in args.names]
            missing = set(args.names) - {s.name for s in chosen}
            if missing:
                raise InfrastructureError(f"no sample named {sorted(missing)}")
        else:
            chosen = samples.build_all(args.names or None, log=log)
        if args.engine_mode != "local":
            return _in_mode(args, chosen, list(extra or []), log)
    except (InfrastructureError, ValueError) as exc:
        log(f"agent-conformance matrix: {exc}")
        return 2
    with tempfile.TemporaryDirectory(prefix="agent-conformance-matrix-") as tmp:
        reports = Path(args.reports) if args.reports else Path(tmp)
        reports.mkdir(parents=True, exist_ok=True)
        runner = SampleRunner(reports, list(extra or []), args.timeout)
        pool = ThreadPoolExecutor(max_workers=max(1, args.jobs))
        try:
            futures = [pool.submit(runner.run, sample) for sample in chosen]
            outcomes = []
            for future in futures:
                outcomes.append(future.result())
                o = outcomes[-1]
                log(f"{'ok' if not o.problems else 'MISMATCH'}: {o.sample.name} ({o.elapsed_s:.1f} s)")
        except KeyboardInterrupt:
            runner.interrupt()
            pool.shutdown(wait=True, cancel_futures=True)
            log("agent-conformance matrix: interrupted")
            return 2
        pool.shutdown()
    print("\n".join(render(outcomes)))
    return 1 if any(o.problems for o in outcomes) else 0


def _in_mode(args, chosen: list[samples.Sample], extra: list[str], log) -> int:
    """The same matrix, run inside an engine mode (the samples copied to its engine first)."""
    names = [s.name for s in chosen]
    with engine_modes.entered(args.engine_mode, [s.tag for s in chosen]) as mode:
        argv = [*mode.python, "-m", "conformance.cli", "matrix", "--no-build", "-j", str(args.jobs),
                "--timeout", str(args.timeout), *(["--reports", str(Path(args.reports).resolve())] if args.reports else []),
                *names, *(["--", *extra] if extra else [])]
        log(f"agent-conformance matrix: engine mode {args.engine_mode}")
        try:
            return subprocess.run(argv, env={**os.environ, **mode.env}, cwd=engine_modes.ROOT,
                                  timeout=args.timeout * max(1, len(names))).returncode
        except subprocess.TimeoutExpired:
            log(f"agent-conformance matrix: engine mode {args.engine_mode} did not finish in time")
            return 2
