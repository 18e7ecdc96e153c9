"""The report as Markdown: the verdict, the table, and for each failure its evidence and how to fix it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .certificate import summary_lines
from .results import Status
from .terminal import calls_line, engine_line, latency_line, profile_line, table_rows, verdict_line


def render_markdown(report: dict[str, Any]) -> str:
    image, calls, engine = report["image"], calls_line(report), engine_line(report)
    lines = [
        f"# Conformance report: `{image['ref']}`",
        "",
        f"**{verdict_line(report)}**",
        "",
        f"Suite {report['suite']['name']} {report['suite']['version']} · image `{image['id'] or 'unknown'}` "
        f"({image['os'] or '?'}/{image['architecture'] or '?'}) · {report['duration_s']:.1f} s",
        "",
        *([profile_line(report), ""] if profile_line(report) else []),
        *([engine, ""] if engine else []),
        *([calls, ""] if calls else []),
        *([latency_line(report), ""] if latency_line(report) else []),
        *[x for line in summary_lines(report) for x in (line, "")],
        "| Requirement | Level | Status | What it asks |",
        "|---|---|---|---|",
    ]
    lines += [f"| {rid} | {level} | {status} | {title} |" for rid, level, status, title in table_rows(report)]
    problems = [r for r in report["requirements"] if r["status"] in (Status.FAIL, Status.ERROR)]
    if problems:
        lines += ["", "## Failures and errors", ""]
    for r in problems:
        lines += [f"### {r['id']} ({r['level']}) — {r['status']}", "", r["title"], "", "```text"]
        lines += r["evidence"] or ["(no evidence recorded)"]
        lines += ["```", ""]
        if r["status"] == Status.FAIL:
            lines += [f"**How to fix:** {r.get('fix') or 'see the requirement in the catalogue'}", ""]
        elif r.get("cause"):
            lines += [f"**Not checked** because of {r['cause']}: fix that first.", ""]
        else:
            lines += ["**Error:** this requirement could not be checked; the evidence names the cause.", ""]
    skipped = [r for r in report["requirements"] if r["status"] == Status.SKIP]
    if skipped:
        lines += ["", "## Skipped", ""]
        lines += [f"- {r['id']}: {'; '.join(r['evidence']) or 'no reason given'}" for r in skipped]
    return "\n".join(lines).rstrip() + "\n"


def write_markdown(path: str | Path, report: dict[str, Any]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_markdown(report), encoding="utf-8")
