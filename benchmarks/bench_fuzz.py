"""Benchmark (not a test): requests per second of our fuzz phase (ROBUST-INPUT) beside schemathesis,
both against one container of the FastAPI reference agent, same number of generated requests.

    .venv/bin/python benchmarks/bench_fuzz.py [--examples 1000] [--seed 1] [--repeat 3]
                                              [--no-default-phases] [--no-diagnostics]

One candidate container is started with our Candidate class (platform constraints: read-only
root, reserved env, …) and waited ready. Then, against that same container:

  ours          conformance.fuzz.campaign.run_campaign(max_examples=N, seed=S). Each example is one raw
                request; answers are memoised by the request's bytes, so a repeated example is not
                re-sent: "generated" = Campaign.sent. After each acceptable answer a keep-alive
                `GET /health` probe follows, and before the first example the runner sends a
                baseline (GET /health, the endpoint's plain request in JSON and SSE mode):
                "HTTP at agent" counts all of them, by wrapping `rawhttp.send` and the runner's
                httpx client for the campaign's duration (cross-checked with the agent's log).
  st fuzzing    `st run <base>/openapi.json` restricted to POST /chat (the only endpoint our config
                fuzzes), `--phases fuzzing`, `--max-examples` = ours' "generated" count, same seed,
                one worker, no example database. Twice: `--checks not_a_server_error` (the property
                ROBUST-INPUT enforces) and `--checks all --continue-on-failure` (without the latter
                schemathesis stops at the first failure, after ~2 requests, see below).
  st default    (report only, not part of the comparison) schemathesis' default phases
                (examples, coverage, fuzzing) with `--checks all --continue-on-failure`: the
                coverage phase adds deterministic negative cases and method probes.
  ours w/o probes (report only, diagnostic) the same campaign with the keep-alive /health probe
                after each request replaced by a no-op: what the probe costs in throughput.

How requests are counted: for schemathesis, "generated" = the interactions in its VCR cassette
(`--report vcr`; the script also shows `test_cases.generated` of its JSON report, which matches),
and "HTTP at agent" = the candidate's uvicorn log over the run's window: access-log lines plus
"Invalid HTTP request received" warnings (h11 rejects those before the access log). That
includes its setup (GET /openapi.json and its probing phase: about three requests), which its
engine time does not. For ours, the log count is the cross-check; a mismatch is printed.

Seconds: ours = Campaign.elapsed_s (generation, sending, probes, shrinking if anything fails);
schemathesis = `running_time` of its JSON report (engine time: probing + phases, after the schema
is loaded); the process wall time (interpreter start, schema download) is kept in each run's record.
Rates are generated requests / seconds. The comparable runs are repeated (--repeat rounds, the
order rotated each round, as the machine may be shared) and the median seconds are reported,
with the client's own CPU time per request (load-independent). Target: ours ≥ schemathesis
(same requests count, one worker).

schemathesis is installed on first use (latest from PyPI unless --schemathesis-spec) into
.cache/bench-venv, never into the project's venv. Everything is bounded by timeouts and the
container is removed whatever happens.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shlex
import signal
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from conformance.candidate import engine  # noqa: E402
from conformance.candidate.container import Candidate  # noqa: E402
from conformance.contract.agent_config import AgentConfig, Budgets  # noqa: E402
from conformance.fuzz import campaign as fuzzing  # noqa: E402
from conformance.wire import rawhttp  # noqa: E402

REFERENCE = "agent-conformance/sample-reference:latest"
CONCURRENCY = Budgets().fuzz_concurrency  # as the suite runs it
BENCH_VENV = ROOT / ".cache" / "bench-venv"
WORK_DIR = ROOT / ".cache" / "bench-fuzz"
ACCESS = re.compile(r'^INFO:\s+\S+ - "(\S+) (\S*) HTTP/[0-9.]+" (\d{3})')
INVALID = "Invalid HTTP request received"


class BenchError(RuntimeError):
    pass


# -- schemathesis in its own venv ---------------------------------------------------------------
def ensure_schemathesis(spec: str, timeout_s: float) -> tuple[Path, str]:
    """The `st` executable of the bench venv and its version; creates and installs on first use."""
    st = BENCH_VENV / "bin" / "st"
    if not st.exists():
        print(f"installing {spec} into {BENCH_VENV.relative_to(ROOT)} (first use, timeout {timeout_s:g} s) …",
              flush=True)
        started = time.monotonic()
        try:
            if not (BENCH_VENV / "bin" / "python").exists():
                # From the base interpreter, so the bench venv shares nothing with the project's.
                base = Path(sys.base_prefix) / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}"
                subprocess.run([str(base if base.exists() else sys.executable), "-m", "venv", str(BENCH_VENV)],
                               check=True, capture_output=True, text=True, timeout=timeout_s)
            left = max(10.0, timeout_s - (time.monotonic() - started))
            subprocess.run([str(BENCH_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet",
                            "--disable-pip-version-check", spec],
                           check=True, capture_output=True, text=True, timeout=left)
        except subprocess.TimeoutExpired:
            raise BenchError(f"installing {spec} took longer than {timeout_s:g} s (is PyPI reachable?); "
                             f"retry with a larger --install-timeout, or delete {BENCH_VENV} and retry") from None
        except subprocess.CalledProcessError as exc:
            tail = "\n".join(line[:300] for line in (exc.stderr or exc.stdout or "").strip().splitlines()[-8:])
            raise BenchError(f"could not install {spec} into {BENCH_VENV} (is PyPI reachable?):\n{tail}") from None
        if not st.exists():
            raise BenchError(f"{spec} installed but {st} does not exist")
    try:
        out = subprocess.run([str(st), "--version"], capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        raise BenchError(f"`{st} --version` did not answer within 60 s") from None
    if out.returncode != 0:
        raise BenchError(f"`{st} --version` failed: {(out.stderr or out.stdout).strip()[-500:]} "
                         f"(delete {BENCH_VENV} to reinstall)")
    return st, out.stdout.strip().rsplit(" ", 1)[-1]


# -- the candidate's log as the ground truth ------------------------------------------------------
class AgentLog:
    def __init__(self, candidate: Candidate):
        self.candidate = candidate

    def lines(self) -> list[str]:
        raw = self.candidate.container.logs(stdout=True, stderr=True)
        return raw.decode("utf-8", "replace").splitlines()

    def mark(self) -> int:
        return len(self.settled())

    def settled(self, quiet_s: float = 0.3, cap_s: float = 5.0) -> list[str]:
        """The log once no line has arrived for `quiet_s` (the last lines may trail the answers)."""
        lines = self.lines()
        until = time.monotonic() + cap_s
        while time.monotonic() < until:
            time.sleep(quiet_s)
            again = self.lines()
            if len(again) == len(lines):
                break
            lines = again
        return lines

    def since(self, mark: int) -> dict:
        window = self.settled()[mark:]
        access = [m for m in map(ACCESS.match, window) if m]
        invalid = sum(INVALID in line for line in window)
        statuses: dict[str, int] = {}
        for m in access:
            statuses[m.group(3)] = statuses.get(m.group(3), 0) + 1
        health = sum(1 for m in access if m.group(1) == "GET" and m.group(2) == "/health")
        return {"http": len(access) + invalid, "invalid": invalid, "statuses": statuses, "health": health,
                "server_errors": [m.string for m in access if m.group(3).startswith("5")],
                "tracebacks": sum("Traceback" in line for line in window)}


@dataclass
class Row:
    tool: str
    generated: int
    http: int
    seconds: float
    wall_s: float | None = None
    examples: int | None = None
    findings: list[str] = field(default_factory=list)
    note: str = ""
    log: dict = field(default_factory=dict)
    comparable: bool = True
    command: str = ""
    cpu_s: float = 0.0

    @property
    def rate(self) -> float:
        return self.generated / self.seconds if self.seconds else 0.0

    @property
    def http_rate(self) -> float:
        return self.http / self.seconds if self.seconds else 0.0


# -- ours ---------------------------------------------------------------------------------------
def run_ours(candidate: Candidate, log: AgentLog, examples: int, seed: int, cap_s: float, probe: bool = True,
             concurrency: int = CONCURRENCY) -> Row:
    """Counts every HTTP request the campaign makes, whatever calls it: raw sends (fuzz cases and
    the runner's baseline of plain requests) through `rawhttp.send`, and the keep-alive probes
    through the httpx client the runner builds; both are wrapped only for the campaign's duration."""
    config = AgentConfig(budgets=Budgets(fuzz_s=cap_s))
    counts = {"raw": 0, "httpx": 0}
    real_send, real_client = rawhttp.send, httpx.Client

    def counting_send(*a, **kw):
        counts["raw"] += 1
        return real_send(*a, **kw)

    class CountingClient(real_client):
        def send(self, *a, **kw):
            counts["httpx"] += 1
            return super().send(*a, **kw)

    real_probe = fuzzing._Fuzzer._probe_after
    mark = log.mark()
    rawhttp.send, httpx.Client = counting_send, CountingClient
    if not probe:  # diagnostic only: what the keep-alive probe costs (it is what catches a wedged agent)
        fuzzing._Fuzzer._probe_after = lambda self, received: None
    try:
        started, cpu = time.monotonic(), time.process_time()
        campaign = fuzzing.run_campaign(candidate, config, budgets=config.budgets, health_path="/health",
                                        max_examples=examples, seed=seed, cap_s=cap_s, concurrency=concurrency)
        wall, cpu = time.monotonic() - started, time.process_time() - cpu
    finally:
        rawhttp.send, httpx.Client = real_send, real_client
        fuzzing._Fuzzer._probe_after = real_probe
    seen = log.since(mark)
    total = counts["raw"] + counts["httpx"]
    findings = [f"{f.key} [{f.requirement}]: {f.request.curl()}" for f in campaign.findings.values()]
    note = (f"HTTP total = {campaign.sent} fuzz requests + {counts['raw'] - campaign.sent} baseline raw requests + "
            f"{counts['httpx']} keep-alive GETs (/health probes and baseline)")
    if campaign.stopped:
        note += f"; {campaign.stopped}"
    if seen["http"] != total:
        note += f"; NB the agent log saw {seen['http']}"
    return Row("ours (fuzz phase)" if probe else "ours without /health probes", campaign.sent, total, campaign.elapsed_s, wall, campaign.examples, findings,
               note, seen, cpu_s=cpu, comparable=probe)


# -- schemathesis -------------------------------------------------------------------------------
_FAILURE = re.compile(r"^- (ST\d+ .+)$")
_CURL = re.compile(r"^\s+(curl .+)$")


def run_schemathesis(st: Path, name: str, base: str, examples: int, seed: int, extra: list[str],
                     log: AgentLog, timeout_s: float, request_s: float, comparable: bool) -> Row:
    out_dir = WORK_DIR / f"{time.strftime('%Y%m%dT%H%M%S')}-{name.replace('/', '-')}"
    out_dir.mkdir(parents=True, exist_ok=True)
    cmd = [str(st), "run", f"{base}/openapi.json", "--include-path", "/chat", "--include-method", "POST",
           "--max-examples", str(examples), "--seed", str(seed), "--workers", "1",
           "--request-timeout", f"{request_s:g}", "--generation-database", "none", *extra,
           "--report", "json,vcr", "--report-dir", str(out_dir), "--no-color"]
    mark = log.mark()
    started, cpu = time.monotonic(), _children_cpu()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, cwd=out_dir)
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"schemathesis ({name}) ran past its {timeout_s:g} s timeout: {shlex.join(cmd)}") from exc
    wall, cpu = time.monotonic() - started, _children_cpu() - cpu
    (out_dir / "stdout.txt").write_text(proc.stdout + proc.stderr)
    if proc.returncode not in (0, 1):
        raise BenchError(f"schemathesis ({name}) exited {proc.returncode}:\n{(proc.stdout + proc.stderr)[-2000:]}")
    seen = log.since(mark)
    reports = sorted(out_dir.glob("json-*.json"))
    cassettes = sorted(out_dir.glob("vcr-*.yaml"))
    if not reports or not cassettes:
        raise BenchError(f"schemathesis ({name}) wrote no JSON report or cassette in {out_dir}")
    report = json.loads(reports[-1].read_text())
    # An interaction starts with "- id:" at column 0; request/response text is indented deeper.
    interactions = sum(1 for line in cassettes[-1].read_text().splitlines() if line.startswith("- id:"))
    # Failures and their "Reproduce with:" curl lines, in order, from the text output.
    findings: list[str] = []
    for line in proc.stdout.splitlines():
        if m := _FAILURE.match(line):
            findings.append(m.group(1))
        elif (m := _CURL.match(line)) and findings and "curl" not in findings[-1]:
            findings[-1] += f": {m.group(1)}"
    generated_by_report = report["test_cases"]["generated"]
    note = f"{interactions} cassette interactions, {generated_by_report} test cases in its JSON report"
    return Row(f"schemathesis {name}", interactions, seen["http"], float(report["running_time"]), wall,
               None, findings, note, seen, comparable, shlex.join(cmd), cpu)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# -- output -------------------------------------------------------------------------------------
@dataclass
class Summary:
    """One tool over the repeats: requests are the same each time, seconds are taken at the median."""

    runs: list[Row]

    @property
    def first(self) -> Row:
        return self.runs[0]

    @property
    def seconds(self) -> float:
        return statistics.median(r.seconds for r in self.runs)

    @property
    def rate(self) -> float:
        return self.first.generated / self.seconds if self.seconds else 0.0

    @property
    def http_rate(self) -> float:
        return self.first.http / self.seconds if self.seconds else 0.0

    @property
    def best_rate(self) -> float:
        """The least disturbed run's rate (the machine may be shared)."""
        return max(r.rate for r in self.runs)

    @property
    def cpu_ms_per_request(self) -> float:
        return 1000 * statistics.median(r.cpu_s for r in self.runs) / max(1, self.first.generated)


def print_table(summaries: list[Summary]) -> None:
    head = ("tool", "runs", "generated", "HTTP at agent", "median s", "gen req/s", "best", "min", "HTTP req/s",
            "client CPU ms/req", "examples", "findings")
    body = []
    for s in summaries:
        r = s.first
        rates = [x.rate for x in s.runs]
        body.append((r.tool + ("" if r.comparable else " *"), str(len(s.runs)), str(r.generated), str(r.http),
                     f"{s.seconds:.1f}", f"{s.rate:.1f}", f"{max(rates):.1f}", f"{min(rates):.1f}", f"{s.http_rate:.1f}",
                     f"{s.cpu_ms_per_request:.1f}", "" if r.examples is None else str(r.examples),
                     str(len(r.findings))))
    widths = [max(len(x[i]) for x in (head, *body)) for i in range(len(head))]

    def fmt(cells):
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    print(fmt(head))
    print("  ".join("-" * w for w in widths))
    for cells in body:
        print(fmt(cells))


ST_RUNS = [  # name, extra arguments, part of the comparison
    ("fuzzing/not_a_server_error", ["--phases", "fuzzing", "--checks", "not_a_server_error"], True),
    ("fuzzing/all", ["--phases", "fuzzing", "--checks", "all", "--continue-on-failure"], True),
]
ST_REPORT_ONLY = ("default-phases/all", ["--checks", "all", "--continue-on-failure"], False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--image", default=REFERENCE)
    parser.add_argument("--examples", type=int, default=1000, help="our max_examples (default 1000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY,
                        help=f"our requests in flight (default {CONCURRENCY}: the suite's fuzz_concurrency)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="rounds of every comparable run, in rotating order; medians are reported (default 3)")
    parser.add_argument("--cap", type=float, default=300.0, help="our campaign's wall-clock cap, s")
    parser.add_argument("--st-timeout", type=float, default=600.0, help="timeout of each schemathesis run, s")
    parser.add_argument("--install-timeout", type=float, default=300.0)
    parser.add_argument("--schemathesis-spec", default="schemathesis",
                        help="what pip installs into the bench venv on first use (default: latest)")
    parser.add_argument("--no-default-phases", action="store_true",
                        help="skip the report-only run of schemathesis' default phases")
    parser.add_argument("--no-diagnostics", action="store_true",
                        help="skip the report-only run of ours without its /health probes")
    args = parser.parse_args()

    # SIGTERM (e.g. from `timeout`) must still run the finally that removes the container.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    st, version = ensure_schemathesis(args.schemathesis_spec, args.install_timeout)
    client = engine.connect()
    info = engine.inspect_image(client, args.image)
    request_s = AgentConfig().budgets.request_s
    candidate = Candidate(client, info, f"bench-fuzz-{uuid.uuid4().hex}")
    results: dict[str, list[Row]] = {}
    rounds: list[list[str]] = []
    started = time.monotonic()
    try:
        candidate.start()
        startup = candidate.wait_ready(30)
        if startup.state != "ready":
            raise BenchError(f"{args.image} did not become ready: {startup.cause()}")
        base = candidate.base_url()
        log = AgentLog(candidate)

        def ours():
            return run_ours(candidate, log, args.examples, args.seed, args.cap, concurrency=args.concurrency)

        def schemathesis(name, extra, comparable):
            return lambda: run_schemathesis(st, name, base, n, args.seed, extra, log, args.st_timeout, request_s,
                                            comparable)

        first = ours()  # first: schemathesis gets as many examples as ours actually sent
        n = first.generated
        results[first.tool] = [first]
        jobs = [ours] + [schemathesis(*spec) for spec in ST_RUNS]
        for i in range(args.repeat):
            order = jobs[i % len(jobs):] + jobs[:i % len(jobs)]  # rotate, so no tool always runs first
            if i == 0:
                order = order[1:]  # ours already ran
            names = [first.tool] if i == 0 else []
            for job in order:
                row = job()
                results.setdefault(row.tool, []).append(row)
                names.append(row.tool)
            rounds.append(names)
        if not args.no_default_phases:
            row = schemathesis(*ST_REPORT_ONLY)()
            results[row.tool] = [row]
        if not args.no_diagnostics:
            row = run_ours(candidate, log, args.examples, args.seed, args.cap, probe=False,
                           concurrency=args.concurrency)
            results[row.tool] = [row]
        alive = candidate.state().get("Running")
    finally:
        candidate.remove()

    load = os.getloadavg()
    print(f"\nmachine: nproc {os.cpu_count()}, {platform.machine()}, load average {load[0]:.2f} {load[1]:.2f} "
          f"{load[2]:.2f} (after); Python {platform.python_version()}; schemathesis {version}; image {args.image}")
    print(f"ours: max_examples={args.examples}, seed={args.seed}; schemathesis: --max-examples {n} "
          f"(= ours' generated requests), --seed {args.seed}, 1 worker; {args.repeat} rounds in rotating order, "
          f"{time.monotonic() - started:.0f} s in all; candidate still running at the end: {alive}\n")
    summaries = [Summary(rows) for rows in results.values()]
    print_table(summaries)
    print("\ngenerated: requests the tool generated and sent; HTTP at agent: every request the agent received "
          "(ours: + keep-alive /health probes and the baseline; schemathesis: + schema fetch and probing)."
          "\nseconds: ours Campaign.elapsed_s, schemathesis its JSON report's running_time (engine, without "
          "process start and schema load). client CPU: the tool's own process (schemathesis: incl. start-up)."
          "\n* report only, not part of the comparison: schemathesis' default phases; ours without the "
          "keep-alive /health probe after each request (what the probe costs)")
    for i, names in enumerate(rounds, 1):
        print(f"round {i}: " + ", ".join(f"{name} {results[name][min(i - 1, len(results[name]) - 1)].rate:.1f}/s"
                                         for name in names))
    for s in summaries:
        r = s.first
        mix = ", ".join(f"{k}×{v}" for k, v in sorted(r.log.get("statuses", {}).items()))
        invalid = r.log.get("invalid", 0)
        print(f"\n{r.tool}: {r.note}; agent statuses {mix}" + (f", {invalid} rejected as invalid HTTP" if invalid else ""))
        if r.command:
            print(f"  command: {r.command}")
        for f in r.findings:
            print(f"  finding: {f}")
        errors = sum(len(x.log.get("server_errors", [])) for x in s.runs)
        tracebacks = sum(x.log.get("tracebacks", 0) for x in s.runs)
        if errors or tracebacks:
            print(f"  agent log over all runs: {errors} 5xx answers, {tracebacks} tracebacks")
    ours_summary = summaries[0]
    comparable = [s for s in summaries[1:] if s.first.comparable and s.first.command]
    print()
    for label, key in (("median", "rate"), ("best run", "best_rate"), ("client CPU per request", "cpu")):
        if key == "cpu":
            best = min(comparable, key=lambda s: s.cpu_ms_per_request)
            ok = ours_summary.cpu_ms_per_request <= best.cpu_ms_per_request
            print(f"target ours ≤ schemathesis by {label}: {'met' if ok else 'NOT met'} — ours "
                  f"{ours_summary.cpu_ms_per_request:.1f} ms, cheapest schemathesis {best.cpu_ms_per_request:.1f} ms "
                  f"({best.first.tool})")
            continue
        best = max(comparable, key=lambda s: getattr(s, key))
        ours_rate, st_rate = getattr(ours_summary, key), getattr(best, key)
        print(f"target ours ≥ schemathesis by {label} generated req/s: {'met' if ours_rate >= st_rate else 'NOT met'}"
              f" — ours {ours_rate:.1f}, fastest schemathesis {st_rate:.1f} ({best.first.tool}); "
              f"ratio {ours_rate / st_rate:.2f}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        sys.exit(f"bench_fuzz: {exc}")
