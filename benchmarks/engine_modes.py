"""Benchmark (not a test): the suite in every engine mode beside the local run.

    .venv/bin/python benchmarks/engine_modes.py [--modes local host-blind …] [--runs 3]

For each mode: the reference agent's whole run (median over --runs; goal ≤ 1.5 × the local run)
and the loopback-only sample's time to its verdict (goal ≤ 5 s everywhere). Times are the
`agent-conformance` process's wall time as the matrix measures it, inside the mode (a mode's own
set-up, such as starting a Docker-in-Docker daemon and copying the images into it, is printed
apart, once).
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # samplekit: the repository's, not installed

from samplekit import engine_modes  # noqa: E402

SAMPLES = ["reference", "broken/loopback-only"]
_ROW = re.compile(r"^(\S+)\s+(ok|MISMATCH)\s.*\(([\d.]+) s\)$")


def run_mode(mode: str, runs: int) -> tuple[float, dict[str, list[float]], bool]:
    """(set-up seconds, sample → wall times, all as expected) for one mode."""
    times: dict[str, list[float]] = {s: [] for s in SAMPLES}
    ok = True
    started = time.monotonic()
    with engine_modes.entered(mode, [f"agent-conformance/sample-{s.replace('/', '-')}:latest" for s in SAMPLES]) as m:
        setup_s = time.monotonic() - started
        for _ in range(runs):
            # One sample at a time: the figures are not each other's load.
            out = subprocess.run([*m.python, "-m", "conformance.cli", "matrix", "--no-build", "-j", "1", *SAMPLES],
                                 capture_output=True, text=True, timeout=1800, cwd=engine_modes.ROOT,
                                 env={**__import__("os").environ, **m.env})
            for line in out.stdout.splitlines():
                match = _ROW.match(line)
                if match:
                    times[match.group(1)].append(float(match.group(3)))
                    ok = ok and match.group(2) == "ok"
            ok = ok and out.returncode == 0
    return setup_s, times, ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--modes", nargs="*", default=list(engine_modes.MODES))
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    results = {}
    for mode in args.modes:
        try:
            results[mode] = run_mode(mode, args.runs)
        except Exception as exc:  # noqa: BLE001 - a mode that cannot be set up here is reported, not fatal
            print(f"{mode}: could not run: {exc}", file=sys.stderr)
    local = statistics.median(results["local"][1]["reference"]) if "local" in results else None
    print(f"{'mode':<14} {'set-up s':>9} {'reference s':>12} {'× local':>8} {'loopback-only s':>16}  as expected")
    for mode, (setup_s, times, ok) in results.items():
        ref = statistics.median(times["reference"]) if times["reference"] else float("nan")
        loop = statistics.median(times["broken/loopback-only"]) if times["broken/loopback-only"] else float("nan")
        ratio = f"{ref / local:.2f}" if local else "-"
        print(f"{mode:<14} {setup_s:>9.1f} {ref:>12.1f} {ratio:>8} {loop:>16.1f}  {'yes' if ok else 'NO'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
