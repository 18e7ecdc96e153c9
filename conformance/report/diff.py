"""`agent-conformance diff A B`: two runs requirement by requirement, for a certifier's re-run.

A and B are bundles (their report.json) or report files. The header says what differs about the
runs themselves (image, profile, suite, verdict); then each requirement whose status or evidence
changed: the status change, and the evidence lines only one side has. Lines that differ only in
measured figures (times, sizes, rates: never the same twice) are counted, not listed.
A status that differs makes the exit status 1.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

MAX_LINES = 6  # evidence lines shown per side and requirement
MAX_BYTES = 64 * 1024 * 1024
# Measured figures: a number with a unit of time, size or rate, or with a decimal point. A bare
# integer (a status code, a port, a count of findings) is behaviour, and stays.
_FIGURE = re.compile(r"\b\d+(?:\.\d+)? ?(?:ms|s|µs|B|KiB|MiB|bytes|/s)(?![\w/])|\b\d+\.\d+\b")


class Unreadable(Exception):
    """Not a bundle and not a report file (exit 2)."""


def load(path: str | Path) -> dict[str, Any]:
    """The report document of a bundle directory or a report.json file."""
    path = Path(path)
    file = path / "report.json" if path.is_dir() else path
    try:
        if file.stat().st_size > MAX_BYTES:
            raise Unreadable(f"{file}: larger than {MAX_BYTES >> 20} MiB: not a report")
        doc = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise Unreadable(f"{file}: cannot be read ({getattr(exc, 'strerror', None) or exc})") from None
    except json.JSONDecodeError as exc:
        raise Unreadable(f"{file}: not JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("requirements"), list):
        raise Unreadable(f"{file}: not a conformance report (no requirements)")
    return doc


def _figureless(line: str) -> str:
    return _FIGURE.sub("#", line)


def _evidence_change(a: list[str], b: list[str]) -> list[str]:
    only_a = [x for x in a if x not in b]
    only_b = [x for x in b if x not in a]
    # Pair lines that differ only in their figures: measured, not a change of behaviour.
    figures = 0
    for line in list(only_a):
        twin = next((x for x in only_b if _figureless(x) == _figureless(line)), None)
        if twin is not None:
            only_a.remove(line)
            only_b.remove(twin)
            figures += 1
    out = [f"    - {x}" for x in only_a[:MAX_LINES]] + ([f"    - … {len(only_a) - MAX_LINES} more"]
                                                       if len(only_a) > MAX_LINES else [])
    out += [f"    + {x}" for x in only_b[:MAX_LINES]] + ([f"    + … {len(only_b) - MAX_LINES} more"]
                                                        if len(only_b) > MAX_LINES else [])
    if figures:
        out.append(f"    ({figures} {'lines differ' if figures > 1 else 'line differs'} only in measured figures)")
    return out


def _header(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    def facts(r: dict[str, Any]) -> dict[str, str]:
        image, contract = r.get("image") or {}, r.get("profile") or {}
        return {"image": f"{image.get('ref', '?')} ({image.get('id') or 'unknown'})",
                "profile": f"{contract.get('name', '?')} {contract.get('version', '')}".strip(),
                "suite": str((r.get("suite") or {}).get("version", "?")), "verdict": str(r.get("verdict", "?"))}
    fa, fb = facts(a), facts(b)
    return [f"{key}: {fa[key]}" if fa[key] == fb[key] else f"{key}: {fa[key]} → {fb[key]}" for key in fa]


def diff(a: dict[str, Any], b: dict[str, Any]) -> tuple[list[str], bool]:
    """(lines, whether any status differs)."""
    rows_a = {r.get("id"): r for r in a["requirements"] if isinstance(r, dict)}
    rows_b = {r.get("id"): r for r in b["requirements"] if isinstance(r, dict)}
    lines = _header(a, b)
    status_changed = False
    changed = 0
    for rid in list(rows_a) + [x for x in rows_b if x not in rows_a]:
        ra, rb = rows_a.get(rid), rows_b.get(rid)
        if ra is None or rb is None:
            status_changed = True
            changed += 1
            lines.append(f"{rid}: {'only in B' if ra is None else 'only in A'} "
                         f"({(rb or ra).get('status')})")
            continue
        evidence = _evidence_change(list(ra.get("evidence") or []), list(rb.get("evidence") or []))
        if ra.get("status") != rb.get("status"):
            status_changed = True
            changed += 1
            lines.append(f"{rid}: {ra.get('status')} → {rb.get('status')}")
            lines += evidence
        elif any(not x.startswith("    (") for x in evidence):
            changed += 1
            lines.append(f"{rid}: {ra.get('status')}, evidence changed")
            lines += evidence
    lines.append(f"{changed} requirement{'s' if changed != 1 else ''} changed"
                 + ("; statuses differ" if status_changed else "; same statuses"))
    return lines, status_changed
