"""Benchmark (not a test): the suite's wall time against the reference agent beside the image's
own time from container start to the first `/ready` 200.

    .venv/bin/python benchmarks/bench_suite.py [--image REF …] [--runs 5] [--per-check]

By default it measures the reference agent and the model-latency one (seconds per model call).

Prints the median start-to-ready of the image alone (started as the platform would), the median
wall time of `pytest --image` for the issue-2 checks (image, network, probes) and for the whole
suite, the whole suite as `agent-conformance IMAGE` (the main job; it skips pytest's assertion
rewriting), and the ratios. Target for the issue-2 checks: ≤ 3 × start-to-ready + 5 s.
`--per-check`: what each filesystem and lifecycle check adds to a run (the whole suite's median
minus the median without that check), and all six together; runs interleaved so drift in the
machine's load spreads over every figure.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

from conformance.candidate import engine
from conformance.candidate.container import Candidate

REFERENCE = "agent-conformance/sample-reference:latest"
MODEL_LATENCY = "agent-conformance/sample-model-latency:latest"
REPO = Path(__file__).resolve().parents[1]


def start_to_ready(ref: str) -> float:
    client = engine.connect()
    info = engine.inspect_image(client, ref)
    candidate = Candidate(client, info, f"bench-{uuid.uuid4().hex}")
    try:
        candidate.start()
        startup = candidate.wait_ready(30, poll_s=0.02)
        if startup.ready_s is None:
            sys.exit(f"{ref} never became ready: {startup.cause()}")
        return startup.ready_s
    finally:
        candidate.remove()


def suite_wall_time(ref: str, pytest_args: list[str]) -> float:
    """Wall time of `pytest --image=REF ARGS` (the command a user runs), process start included."""
    return _wall_time(["-m", "pytest", f"--image={ref}", "-q", "-p", "no:cacheprovider", *pytest_args])


def command_wall_time(ref: str) -> float:
    """Wall time of `agent-conformance REF -q` (the README's main job runs the command)."""
    return _wall_time(["-m", "conformance.cli", ref, "-q"])


def _wall_time(python_args: list[str]) -> float:
    started = time.monotonic()
    result = subprocess.run([sys.executable, *python_args], capture_output=True, text=True, timeout=600, cwd=REPO)
    elapsed = time.monotonic() - started
    if result.returncode not in (0, 1):
        sys.exit(f"the suite failed ({result.returncode}):\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return elapsed


# The checks of the filesystem and lifecycle requirements (conformance/suite/test_{filesystem,lifecycle}.py).
LIFECYCLE_CHECKS = {
    "READONLY-ROOTFS": "test_starts_and_serves_on_a_read_only_root",
    "WRITES-ONLY-TMP": "test_writes_nothing_outside_tmp",
    "PLATFORM-ENV": "test_serves_with_the_platform_variables",
    "STATELESS-RESTART": "test_restarted_and_fresh_containers_answer_alike",
    "STAYS-UP": "test_stays_up_through_the_run",
    "GRACEFUL-SHUTDOWN": "test_exits_within_10_s_of_sigterm",
}


def per_check(ref: str, runs: int) -> None:
    variants = {"whole suite": []} | {f"without {rid}": ["-k", f"not {name}"] for rid, name in LIFECYCLE_CHECKS.items()}
    variants["without all six"] = ["-k", " and ".join(f"not {name}" for name in LIFECYCLE_CHECKS.values())]
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(runs):
        for name, pytest_args in variants.items():
            times[name].append(suite_wall_time(ref, pytest_args))
    whole = statistics.median(times["whole suite"])
    print(f"image {ref}, {runs} runs each (interleaved), medians; the whole suite {whole:.2f} s")
    for name, measured in times.items():
        if name == "whole suite":
            continue
        median = statistics.median(measured)
        print(f"  {name[len('without '):]:<18} adds {whole - median:+6.2f} s   (suite without it {median:.2f} s, "
              f"range {min(measured):.2f}–{max(measured):.2f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--image", nargs="+", default=[REFERENCE, MODEL_LATENCY])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--per-check", action="store_true", help="what each lifecycle check adds to a run")
    args = parser.parse_args()
    for image in args.image:
        if args.per_check:
            per_check(image, args.runs)
        else:
            measure(image, args.runs)


def measure(image: str, runs: int) -> None:
    ready = statistics.median(start_to_ready(image) for _ in range(runs))
    issue2 = statistics.median(
        suite_wall_time(image, ["conformance/suite/test_image.py", "conformance/suite/test_network.py",
                                     "conformance/suite/test_probes.py", "-k", "not truthful and not responsive"])
        for _ in range(runs))
    whole = statistics.median(suite_wall_time(image, []) for _ in range(runs))
    command = statistics.median(command_wall_time(image) for _ in range(runs))
    target = 3 * ready + 5
    print(f"image {image}, {runs} runs each, medians")
    print(f"  start → first /ready 200 (image alone):   {ready:6.2f} s")
    print(f"  suite, issue-2 checks (command wall time): {issue2:6.2f} s   ratio {issue2 / ready:5.1f}×   "
          f"target ≤ {target:.2f} s: {'met' if issue2 <= target else 'NOT met'}")
    print(f"  suite, every check (command wall time):    {whole:6.2f} s   ratio {whole / ready:5.1f}×")
    print(f"  agent-conformance IMAGE (every check):     {command:6.2f} s   ratio {command / ready:5.1f}×")


if __name__ == "__main__":
    main()
