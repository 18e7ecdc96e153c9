"""Benchmark (not a test): the whole run, `agent-conformance IMAGE`, on each case of issue 25's
table, median of N runs, with the machine's load average beside each figure.

    .venv/bin/python benchmarks/bench_cases.py [--runs 3] [--case NAME …] [--tree DIR] [--json FILE]

Build the samples first (`python -m samplekit build stdlib-keepalive hostile/not-http-at-all …`).
Runs are interleaved (run 1 of every case, then run 2, …) so drift in the load spreads over every
figure. The never-answering and not-HTTP cases run on the default budgets (30 s to start), as a
new user's image would: their samples' agent.toml shortens the budget for the tests only.
`--tree DIR`: run the suite of another source tree (e.g. `git archive main | tar -x -C DIR`), for a
before/after comparison with the same samples and the same interpreter.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PREFIX = "agent-conformance/sample-"


@dataclass
class Case:
    name: str
    sample: str  # the folder under sample_agents/
    goal_s: float
    use_config: bool = True  # its agent.toml (endpoints, budgets), if it has one
    walls: list[float] = field(default_factory=list)
    loads: list[float] = field(default_factory=list)
    verdicts: list[str] = field(default_factory=list)
    latency: str = ""

    @property
    def image(self) -> str:
        return PREFIX + self.sample.replace("/", "-") + ":latest"

    def args(self) -> list[str]:
        config = REPO / "sample_agents" / self.sample / "agent.toml"
        return ["--agent-config", str(config)] if self.use_config and config.exists() else []


def cases() -> list[Case]:
    return [
        Case("44 ms keep-alive stall (stdlib, conformant)", "stdlib-keepalive", 10),
        Case("reference", "reference", 4),
        Case("model latency, 6 events", "model-latency", 30),
        Case("never answers (default budgets)", "hostile/silent", 40, use_config=False),
        Case("not HTTP (default budgets)", "hostile/not-http-at-all", 40, use_config=False),
        Case("exits at once", "broken/exits-at-once", 3),
    ]


def run_once(case: Case, workdir: Path, tree: Path = REPO) -> None:
    report = workdir / "report.json"
    load = os.getloadavg()[0]
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "conformance.cli", case.image, "-q", *case.args(),
                             "--report-json", str(report)], capture_output=True, text=True, timeout=900, cwd=tree)
    case.walls.append(time.monotonic() - started)
    case.loads.append(load)
    if result.returncode not in (0, 1):
        sys.exit(f"{case.name}: the run failed ({result.returncode}):\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    document = json.loads(report.read_text())
    case.verdicts.append(document["verdict"])
    from conformance.report.terminal import latency_line  # light: the report layer imports no Docker
    case.latency = latency_line(document)


def table(selected: list[Case]) -> list[str]:
    lines = ["| case | median s | runs s | load avg (1 min) at each run | verdict | goal |",
             "|---|---|---|---|---|---|"]
    for case in selected:
        runs = ", ".join(f"{x:.1f}" for x in case.walls)
        loads = ", ".join(f"{x:.1f}" for x in case.loads)
        verdicts = "/".join(sorted(set(case.verdicts)))
        lines.append(f"| {case.name} | {statistics.median(case.walls):.1f} | {runs} | {loads} | {verdicts} "
                     f"| ≤ {case.goal_s:g} s |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--case", action="append", help="a sample folder (e.g. hostile/silent); all when not given")
    parser.add_argument("--tree", type=Path, default=REPO, help="the source tree whose suite runs (its cwd)")
    parser.add_argument("--json", help="write the figures here too")
    args = parser.parse_args()
    selected = [c for c in cases() if not args.case or c.sample in args.case]
    with tempfile.TemporaryDirectory(prefix="bench-cases-") as tmp:
        for i in range(args.runs):
            for case in selected:
                run_once(case, Path(tmp), args.tree.resolve())
                print(f"run {i + 1}: {case.name}: {case.walls[-1]:.1f} s (load {case.loads[-1]:.1f}), "
                      f"{case.verdicts[-1]}", file=sys.stderr, flush=True)
    print("\n".join(table(selected)))
    for case in selected:
        if case.latency:
            print(f"{case.name}: {case.latency}")
    if args.json:
        Path(args.json).write_text(json.dumps([{"case": c.name, "image": c.image, "walls_s": c.walls,
                                                "loads": c.loads, "verdicts": c.verdicts} for c in selected],
                                              indent=2) + "\n")


if __name__ == "__main__":
    main()
