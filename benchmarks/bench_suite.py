"""Benchmark (not a test): the suite's wall time against the reference agent beside the image's
own time from container start to the first `/ready` 200.

    .venv/bin/python benchmarks/bench_suite.py [--image REF] [--runs 5]

Prints the median start-to-ready of the image alone (started as the platform would), the median
wall time of `agent-conformance` for the issue-2 checks (image, network, probes) and for the whole
suite, and the ratios. Target for the issue-2 checks: ≤ 3 × start-to-ready + 5 s.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

from conformance import engine, image
from conformance.candidate import Candidate

REFERENCE = "agent-conformance/sample-reference:latest"
REPO = Path(__file__).resolve().parents[1]


def start_to_ready(ref: str) -> float:
    client = engine.connect()
    info = image.inspect_image(client, ref)
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
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "pytest", f"--image={ref}", "-q", "-p", "no:cacheprovider",
                             *pytest_args], capture_output=True, text=True, timeout=600, cwd=REPO)
    elapsed = time.monotonic() - started
    if result.returncode not in (0, 1):
        sys.exit(f"the suite failed ({result.returncode}):\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--image", default=REFERENCE)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    ready = statistics.median(start_to_ready(args.image) for _ in range(args.runs))
    issue2 = statistics.median(
        suite_wall_time(args.image, ["conformance/suite/test_image.py", "conformance/suite/test_network.py",
                                     "conformance/suite/test_probes.py", "-k", "not truthful and not responsive"])
        for _ in range(args.runs))
    whole = statistics.median(suite_wall_time(args.image, []) for _ in range(args.runs))
    target = 3 * ready + 5
    print(f"image {args.image}, {args.runs} runs each, medians")
    print(f"  start → first /ready 200 (image alone):   {ready:6.2f} s")
    print(f"  suite, issue-2 checks (command wall time): {issue2:6.2f} s   ratio {issue2 / ready:5.1f}×   "
          f"target ≤ {target:.2f} s: {'met' if issue2 <= target else 'NOT met'}")
    print(f"  suite, every check (command wall time):    {whole:6.2f} s   ratio {whole / ready:5.1f}×")


if __name__ == "__main__":
    main()
