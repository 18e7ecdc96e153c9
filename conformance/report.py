"""Results → the certification report: JSON (the documented schema, exactly), Markdown, and the
terminal table. Written in every case, also when the image could not be inspected."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from . import SUITE_NAME, __version__
from .image import ImageInfo
from .requirements import BY_ID
from .results import RequirementResult, verdict

_MARK = {"pass": "pass", "fail": "FAIL", "error": "ERROR", "skip": "skip"}


def build(image_ref: str, image: ImageInfo | None, results: list[RequirementResult], duration_s: float) -> dict[str, Any]:
    return {
        "suite": {"name": SUITE_NAME, "version": __version__},
        "image": {
            "ref": image_ref,
            "id": image.id if image else "",
            "os": image.os if image else "",
            "architecture": image.architecture if image else "",
        },
        "verdict": verdict(results),
        "duration_s": round(duration_s, 3),
        "requirements": [
            {
                "id": r.id,
                "level": r.requirement.level,
                "title": r.requirement.title,
                "status": r.status,
                "evidence": list(r.evidence),
            }
            for r in results
        ],
    }


def write_json(path: str | Path, report: dict[str, Any]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _verdict_line(report: dict[str, Any]) -> str:
    rows = report["requirements"]
    counts = {s: sum(1 for r in rows if r["status"] == s) for s in ("pass", "fail", "error", "skip")}
    must_bad = [r["id"] for r in rows if r["level"] == "MUST" and r["status"] in ("fail", "error")]
    tally = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    why = f" — MUST not met: {', '.join(must_bad)}" if must_bad else ""
    return f"Verdict: {report['verdict'].upper()} ({tally}){why}"


def table_rows(report: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    return [(r["id"], r["level"], _MARK[r["status"]], r["title"]) for r in report["requirements"]]


def render_markdown(report: dict[str, Any]) -> str:
    image = report["image"]
    lines = [
        f"# Conformance report: `{image['ref']}`",
        "",
        f"**{_verdict_line(report)}**",
        "",
        f"Suite {report['suite']['name']} {report['suite']['version']} · image `{image['id'] or 'unknown'}` "
        f"({image['os'] or '?'}/{image['architecture'] or '?'}) · {report['duration_s']:.1f} s",
        "",
        "| Requirement | Level | Status | What it asks |",
        "|---|---|---|---|",
    ]
    lines += [f"| {rid} | {level} | {status} | {title} |" for rid, level, status, title in table_rows(report)]
    problems = [r for r in report["requirements"] if r["status"] in ("fail", "error")]
    if problems:
        lines += ["", "## Failures and errors", ""]
    for r in problems:
        lines += [f"### {r['id']} ({r['level']}) — {r['status']}", "", r["title"], "", "```text"]
        lines += r["evidence"] or ["(no evidence recorded)"]
        lines += ["```", ""]
        if r["status"] == "fail":
            lines += [f"**How to fix:** {BY_ID[r['id']].fix}", ""]
        else:
            lines += ["**Error:** this requirement could not be checked; the evidence names the cause.", ""]
    skipped = [r for r in report["requirements"] if r["status"] == "skip"]
    if skipped:
        lines += ["", "## Skipped", ""]
        lines += [f"- {r['id']}: {'; '.join(r['evidence']) or 'no reason given'}" for r in skipped]
    return "\n".join(lines).rstrip() + "\n"


def write_markdown(path: str | Path, report: dict[str, Any]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_markdown(report), encoding="utf-8")


def render_terminal(report: dict[str, Any]) -> list[str]:
    rows = table_rows(report)
    width = max(len(r[0]) for r in rows)
    lines = [_verdict_line(report)]
    lines += [f"  {rid:<{width}}  {level:<6}  {status:<5}  {title}" for rid, level, status, title in rows]
    return lines


REPRO_PREFIX = "repro: "


def write_reproductions(path: str | Path, report: dict[str, Any]) -> None:
    """Every failing generated request as a runnable `curl`, grouped by requirement."""
    lines = ["#!/usr/bin/env bash", f"# Requests that broke {report['image']['ref']}; run the image with",
             "#   docker run --rm -p 8080:8080 IMAGE", "# then each command below reproduces one failure.", ""]
    for r in report["requirements"]:
        repros = [line.strip().removeprefix(REPRO_PREFIX) for line in r["evidence"]
                  if line.lstrip().startswith(REPRO_PREFIX)]
        if repros:
            lines.append(f"# {r['id']}")
            lines += repros
            lines.append("")
    if len(lines) == 5:
        lines.append("# (no failing generated request)")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
