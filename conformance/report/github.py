"""The report as GitHub Actions shows it: the Markdown report in the job summary, one annotation
per requirement that failed (an error) or could not be checked (a warning), and the step's outputs.

    python -m conformance.report.github REPORT_JSON [REPORT_MD]

prints the annotations (GitHub reads workflow commands from the step's output) and appends to the
files GitHub names in GITHUB_STEP_SUMMARY and GITHUB_OUTPUT, when they are set.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from .markdown import render_markdown
from .results import Status

_SHOWN_EVIDENCE = 12  # lines of evidence in an annotation; the summary has all of it


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotations(report: dict[str, Any]) -> list[str]:
    """`::error title=…::…` for each failed requirement, `::warning …` for each unchecked one."""
    lines = []
    for r in report["requirements"]:
        kind = {Status.FAIL: "error", Status.ERROR: "warning"}.get(r["status"])
        if kind is None:
            continue
        title = f"{r['id']} ({r['level']}) {r['status']}"
        evidence = r["evidence"][:_SHOWN_EVIDENCE] or ["(no evidence recorded)"]
        body = "\n".join([r["title"], *evidence])
        lines.append(f"::{kind} title={_escape_property(title)}::{_escape_data(body)}")
    return lines


def outputs(report: dict[str, Any], report_json: str, report_md: str, report_html: str = "") -> dict[str, str]:
    return {"verdict": str(report["verdict"]), "report-json": report_json, "report-md": report_md,
            "report-html": report_html}


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m conformance.report.github REPORT_JSON [REPORT_MD [REPORT_HTML]]", file=sys.stderr)
        return 2
    report_json, report_md, report_html = (argv + ["", ""])[:3]
    try:
        report = json.loads(Path(report_json).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"::error title=agent-conformance::no report to show ({report_json}: {exc})")
        return 2
    print("\n".join(annotations(report)))
    if os.environ.get("GITHUB_STEP_SUMMARY"):
        with open(os.environ["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as summary:
            summary.write(render_markdown(report) + "\n")
    if os.environ.get("GITHUB_OUTPUT"):
        with open(os.environ["GITHUB_OUTPUT"], "a", encoding="utf-8") as out:
            out.writelines(f"{key}={value}\n" for key, value in outputs(report, report_json, report_md, report_html).items())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
