"""`agent-conformance summarize`: bundles made anywhere → one fleet summary.

    summary.json   every image with its verdict and each requirement's status, the failures
                   counted per requirement, the bundles that do not verify, the images without a
                   verdict (no bundle, or a run that ended in an error, a timeout or a crash)
    summary.md     the same for a CI job summary
    index.html     the image × requirement grid (`summary_html`)

Only a bundle that verifies is read for its results: one that does not is listed with what is
wrong, and counts nowhere else; nor does one whose run gave no verdict (the image was not found,
the run was stopped). A batch's records (`_batch/*.json` beside its bundles) say how each run
ended, also where it left no bundle; `expected` (the batch's list) names the images that have
neither (a CI job that died before its upload)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .. import SUITE_NAME, __version__
from ..contract.catalogue import EVERY_REQUIREMENT
from . import bundles
from .plan import Entry, folder_name

RECORDS = "_batch"
STATUSES = ("pass", "fail", "error", "skip")
_ORDER = {r.id: i for i, r in enumerate(EVERY_REQUIREMENT)}
MAX_RECORDS = 10_000


@dataclass(frozen=True)
class Written:
    json: Path
    markdown: Path
    html: Path


def build(roots: list[Path], out: Path, expected: list[Entry] = (), only: list[Entry] | None = None,
          now: datetime | None = None) -> dict[str, Any]:
    """The summary document of the bundles under `roots`; links are relative to `out`. `only`: just
    these images' folders (a batch's summary: not the bundles of earlier lists in the same folder)."""
    found = [bundles.read(path) for path in bundles.find(roots)]
    records = _records(roots)
    if only is not None:
        folders = {e.folder for e in only}
        found = [b for b in found if b.path.name in folders]
        records = {folder: record for folder, record in records.items() if folder in folders}
    good, no_verdict, unverified = [], [], []
    for found_bundle in found:
        record = records.get(found_bundle.path.name) or {}
        why = _no_verdict(found_bundle, record)
        if why:  # a run that says it gave no verdict is listed so, whether its bundle verifies or not
            no_verdict.append({"ref": found_bundle.image_ref or record.get("ref", ""), "status": why[0],
                               "reason": why[1], "bundle": _rel(found_bundle.path, out)})
        elif not found_bundle.verified:
            unverified.append({"bundle": _rel(found_bundle.path, out), "problems": list(found_bundle.problems)})
        else:
            good.append(found_bundle)
    rows = sorted((_row(b, out) for b in good), key=lambda r: (r["ref"], r["bundle"]))
    ids = sorted({r["id"] for b in good for r in b.report.get("requirements", [])},
                 key=lambda rid: (_ORDER.get(rid, len(_ORDER)), rid))
    levels = {r["id"]: r.get("level", "") for b in good for r in b.report.get("requirements", [])}
    titles = {r["id"]: r.get("title", "") for b in good for r in b.report.get("requirements", [])}
    requirements = []
    for rid in ids:
        counts = {s: sum(row["statuses"].get(rid) == s for row in rows) for s in STATUSES}
        requirements.append({"id": rid, "level": levels[rid], "title": titles[rid], **counts,
                             "images": sum(row["statuses"].get(rid) in ("fail", "error") for row in rows)})
    seen = {folder_name(r["ref"]) for r in rows} | {Path(b.path).name for b in found}
    no_verdict += [{"ref": rec.get("ref", folder), "status": rec.get("status", ""), "reason": rec.get("reason", ""),
                    "bundle": ""} for folder, rec in sorted(records.items()) if folder not in seen]
    named = seen | {folder_name(m["ref"]) for m in no_verdict}
    no_verdict += [{"ref": e.ref, "status": "missing", "reason": "no bundle and no record of a run", "bundle": ""}
                   for e in expected if e.folder not in named]
    verdicts = [r["verdict"] for r in rows]
    return {
        "suite": {"name": SUITE_NAME, "version": __version__},
        "created": (now or datetime.now(timezone.utc)).isoformat(timespec="seconds"),
        "totals": {"images": len(rows) + len(unverified) + len(no_verdict), "pass": verdicts.count("pass"),
                   "fail": verdicts.count("fail"), "incomplete": verdicts.count("incomplete"),
                   "unverified": len(unverified), "no_verdict": len(no_verdict)},
        "requirements": requirements,
        "images": rows,
        "unverified": unverified,
        "no_verdict": no_verdict,
    }


def _no_verdict(found: bundles.Bundle, record: dict) -> tuple[str, str] | None:
    """Why a bundle holds no verdict to count, or None when it does (or does not verify): its run
    ended in an error, a timeout or a crash (the batch's record says), was interrupted, or never saw
    the image."""
    if record.get("status") not in (None, "pass", "fail", "incomplete"):
        return str(record.get("status")), str(record.get("reason") or "")
    if not found.verified:
        return None
    if not found.complete:
        return "interrupted", "the run was stopped before it decided every requirement"
    if not found.image_id:
        evidence = next((e for r in found.report.get("requirements", []) for e in r.get("evidence", [])), "")
        return "error", evidence or "the image was never inspected"
    return None


def _row(found: bundles.Bundle, out: Path) -> dict[str, Any]:
    requirements = found.report.get("requirements", [])
    return {
        "ref": found.image_ref,
        "id": found.image_id,
        "verdict": found.report.get("verdict", ""),
        "profile": found.profile,
        "suite_version": found.suite_version,
        "duration_s": found.report.get("duration_s"),
        "complete": found.complete,
        "bundle": _rel(found.path, out),
        "report": _rel(found.path / "report.html", out),
        "statuses": {r.get("id", "?"): r.get("status", "") for r in requirements},
        "failed": [r.get("id", "?") for r in requirements if r.get("status") == "fail"],
        "errors": [r.get("id", "?") for r in requirements if r.get("status") == "error"],
        # A certification's MUSTs left unchecked (its verdict is then `incomplete`).
        "unchecked_must": [u.get("id", "?") for u in (found.report.get("completeness") or {}).get("unchecked_must") or []],
    }


def _records(roots: list[Path]) -> dict[str, dict]:
    """A batch's records under the roots (each root, or a root's children: CI artifacts), by folder."""
    records: dict[str, dict] = {}
    folders = [root / RECORDS for root in roots] + [child / RECORDS for root in roots if root.is_dir()
                                                    for child in sorted(root.iterdir()) if child.is_dir()]
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.json"))[:MAX_RECORDS]:
            try:
                record = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(record, dict):
                records[path.stem] = record
    return records


def _rel(path: Path, out: Path) -> str:
    return Path(os.path.relpath(Path(path).resolve(), Path(out).resolve())).as_posix()


def href(relative: str) -> str:
    """A relative path as a link target (every character that is not a path's percent-encoded)."""
    return quote(relative, safe="/")


# -- Markdown ----------------------------------------------------------------------------------


def _cell(text: Any) -> str:
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("`", "'")


def headline(summary: dict[str, Any]) -> str:
    totals = summary["totals"]
    return (f"Fleet conformance: {totals['images']} images, {totals['pass']} pass, {totals['fail']} fail"
            + (f", {totals['incomplete']} incomplete" if totals.get("incomplete") else "")
            + (f", {totals['unverified']} bundles that do not verify" if totals["unverified"] else "")
            + (f", {totals['no_verdict']} without a verdict" if totals["no_verdict"] else ""))


def markdown(summary: dict[str, Any]) -> str:
    lines = [f"# {headline(summary)}", "", f"{summary['suite']['name']} {summary['suite']['version']}, summarized {summary['created']}.", ""]
    if summary["images"]:
        lines += ["| image | verdict | failed | could not be checked | report |", "|---|---|---|---|---|"]
        for row in summary["images"]:
            unchecked = f" ({', '.join(row['unchecked_must'])} not checked)" if row["unchecked_must"] else ""
            lines.append(f"| `{_cell(row['ref'])}` | **{_cell(row['verdict'])}**{_cell(unchecked)} "
                         f"| {_cell(', '.join(row['failed']) or '-')} "
                         f"| {_cell(', '.join(row['errors']) or '-')} | [report]({href(row['report'])}) |")
        ranked = sorted((r for r in summary["requirements"] if r["images"]), key=lambda r: (-r["images"], r["id"]))
        lines += ["", "## Which requirements fail most", ""]
        if ranked:
            lines += ["| requirement | level | fail | error | images |", "|---|---|---|---|---|"]
            lines += [f"| {_cell(r['id'])} | {_cell(r['level'])} | {r['fail']} | {r['error']} | "
                      f"{r['images']} of {len(summary['images'])} |" for r in ranked]
        else:
            lines.append("None: every requirement passed or was skipped on every image.")
    if summary["unverified"]:
        lines += ["", "## Bundles that do not verify", "", "Their results are not counted above.", ""]
        lines += [f"- `{_cell(u['bundle'])}`: {_cell('; '.join(u['problems'][:5]))}" for u in summary["unverified"]]
    if summary["no_verdict"]:
        lines += ["", "## Images without a verdict", ""]
        lines += [f"- `{_cell(m['ref'])}`: {_cell(m['status'])}" + (f", {_cell(m['reason'])}" if m["reason"] else "")
                  + (f" ([bundle]({href(m['bundle'])}))" if m["bundle"] else "") for m in summary["no_verdict"]]
    return "\n".join(lines) + "\n"


def write(summary: dict[str, Any], out: Path) -> Written:
    from .summary_html import render  # the page, apart from the data

    out.mkdir(parents=True, exist_ok=True)
    written = Written(out / "summary.json", out / "summary.md", out / "index.html")
    written.json.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    written.markdown.write_text(markdown(summary), encoding="utf-8")
    written.html.write_text(render(summary), encoding="utf-8")
    return written
