"""Benchmark (not a test): does the fuzz phase catch each fuzz-broken sample at the default budget,
whatever the seed? Runs only the fuzz checks, N seeds per sample, and prints caught/N and times.

    .venv/bin/python benchmarks/fuzz_detection.py [--runs 10] [--samples broken/dot-path-500 …]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # samplekit: the repository's, not installed

from samplekit import samples  # noqa: E402

FUZZ_SAMPLES = ["broken/dot-path-500", "broken/qvalue-crash", "broken/long-header-exit", "broken/empty-body-hang",
                "broken/model-latency-dot-path-500", "broken/model-latency-header-crash"]


def run_once(sample: samples.Sample, seed: int, report: Path) -> tuple[str, float]:
    args = [sys.executable, "-m", "conformance.cli", sample.tag, "-q", "--fuzz-seed", str(seed),
            "--report-json", str(report)]
    if sample.agent_config:
        args += ["--agent-config", str(sample.agent_config)]
    started = time.monotonic()
    subprocess.run(args + ["--", "-k", "fuzz"], capture_output=True, timeout=600)
    elapsed = time.monotonic() - started
    statuses = {r["id"]: r["status"] for r in json.loads(report.read_text())["requirements"]}
    return statuses["ROBUST-INPUT"], elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--samples", nargs="*", default=FUZZ_SAMPLES)
    args = parser.parse_args()
    by_name = {s.name: s for s in samples.discover()}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.samples:
            outcomes = [run_once(by_name[name], seed, Path(tmp) / f"{seed}.json") for seed in range(1, args.runs + 1)]
            caught = sum(status == "fail" for status, _ in outcomes)
            times = [t for _, t in outcomes]
            print(f"{name:28} caught {caught}/{args.runs}  run time median {statistics.median(times):5.1f} s "
                  f"(max {max(times):5.1f} s)", flush=True)


if __name__ == "__main__":
    main()
