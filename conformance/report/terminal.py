"""The report as the terminal shows it: the verdict line (also the Markdown report's headline) and
one row per requirement."""

from __future__ import annotations

from typing import Any

from ..contract.catalogue import Level
from .completeness import headline
from .results import Status, causes

_MARK = {Status.PASS: "pass", Status.FAIL: "FAIL", Status.ERROR: "ERROR", Status.SKIP: "skip"}


def profile_line(report: dict[str, Any]) -> str:
    contract = report.get("profile") or {}
    if not contract:
        return ""
    return f"Contract: {contract['name']} ({contract['title']}, read {contract['version']})."


def verdict_line(report: dict[str, Any]) -> str:
    """`Verdict: FAIL (…) — MUST not met: IMAGE-PLATFORM; and 12 MUSTs not checked because of
    IMAGE-PLATFORM`: the root causes first, each knock-on counted under its cause, never headlined."""
    rows = report["requirements"]
    counts = {s: sum(1 for r in rows if r["status"] == s) for s in Status}
    tally = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    own, knocked = causes(rows)
    levels = {r["id"]: r["level"] for r in rows}
    parts = [f"MUST not met: {', '.join(own)}"] if own else []
    parts += [f"{len(ids)} MUST{'s' if len(ids) > 1 else ''} not checked because of {cause}"
              + ("" if levels.get(cause) == Level.MUST else f" ({levels.get(cause, 'run error')})")
              for cause, ids in knocked.items()]
    line = f"Verdict: {report['verdict'].upper()} ({tally})"
    return (f"{line} — " + "; and ".join(parts) if parts else line) + headline(report)


def calls_line(report: dict[str, Any]) -> str:
    """How often the run called each declared endpoint: what a slow or metered agent pays for."""
    calls = report.get("endpoint_calls") or {}
    if not calls:
        return ""
    shown = "; ".join(f"{label}: {n['checks']} by the checks, {n['fuzz']} by the fuzzer" for label, n in calls.items())
    return f"Calls to the declared endpoints: {shown}."


def latency_line(report: dict[str, Any]) -> str:
    """The checks' requests' latency to the answer's head, probes and declared endpoints: a stall
    per request (44 ms of delayed ACK) shows here as a figure beside the verdict."""
    summaries = [s for s in (report.get("measurements") or {}).get("latency") or [] if s.get("median_s") is not None]
    if not summaries:
        return ""
    shown = "; ".join(f"{s['route']} {_ms(s['median_s'])} / {_ms(s['p95_s'])} ({s['count']})" for s in summaries)
    return f"Request latency to the answer's head, median / p95 (requests): {shown}."


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds >= 0.001 else "<1 ms"


def table_rows(report: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    return [(r["id"], r["level"], _MARK[r["status"]], r["title"]) for r in report["requirements"]]


def render_terminal(report: dict[str, Any]) -> list[str]:
    rows = table_rows(report)
    width = max(len(r[0]) for r in rows)
    lines = [verdict_line(report)]
    lines += [f"  {rid:<{width}}  {level:<6}  {status:<5}  {title}" for rid, level, status, title in rows]
    return lines


def engine_line(report: dict[str, Any]) -> str:
    """Which engine ran the candidates and how they were reached: the same verdict is expected
    from every engine, and a reader comparing two reports needs to know."""
    engine = report.get("engine") or {}
    if not engine.get("kind"):
        return ""
    rootless = ", rootless" if engine.get("rootless") else ""
    what = (f"{engine['kind']} {engine.get('version', '')} (API {engine.get('api_version', '?')}, "
            f"{engine.get('os', '?')}{rootless}) at {engine.get('address', '?')}")
    reached = f"; candidates reached {engine['reached']}" if engine.get("reached") else ""
    # Emulation is the candidates' slowness: no word of it where no candidate ran.
    ran = bool((report.get("measurements") or {}).get("startups"))
    emulated = f"; {engine['emulated']}" if engine.get("emulated") and ran else ""
    return f"Engine: {what}{reached}{emulated}."

