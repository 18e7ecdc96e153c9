"""The reproductions beside a report (`FILE.repro.sh`): every failing generated request as a
runnable `curl`, grouped by requirement."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..wire.curl import REPRO_PREFIX


def write_reproductions(path: str | Path, report: dict[str, Any]) -> None:
    """Every failing generated request as a runnable `curl`, grouped by requirement."""
    port = (report.get("profile") or {}).get("port", 8080)
    lines = ["#!/usr/bin/env bash", f"# Requests that broke {report['image']['ref']}; run the image with",
             f"#   docker run --rm -p {port}:{port} IMAGE", "# then each command below reproduces one failure.", ""]
    if report.get("setup"):
        lines[-2:-1] = ["# then, once it answers, the agent config's [[setup]] requests, as the run sent them:",
                        *report["setup"], "# and then each command below reproduces one failure."]
    header = len(lines)
    for r in report["requirements"]:
        repros = [line.strip().removeprefix(REPRO_PREFIX) for line in r["evidence"]
                  if line.lstrip().startswith(REPRO_PREFIX)]
        if repros:
            lines.append(f"# {r['id']}")
            lines += repros
            lines.append("")
    if len(lines) == header:
        lines.append("# (no failing generated request)")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
