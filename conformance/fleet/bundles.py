"""Certification bundles as a batch and a summary see them: found under the folders given, verified,
and read (the report and certification.json), never trusted before they verify.

`verify` is the one place a bundle is judged: the certifier's own checks (`report.verify`, as
`agent-conformance verify DIR` runs them without a key: every file there and summed, the
attestation's statement naming them, the report, junit.xml and the statement agreeing, the
verdict recomputed). A check of the signature needs the vendor's key: a summary does not have it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..report import bundle
from ..report import verify as certifier
from ..report.results import INTERRUPTED

# A folder is taken for a bundle when it holds any of these (a broken one is still listed as such).
MARKS = (bundle.SUMS, bundle.INFO, "report.json")
MAX_DEPTH = 3  # DIR, DIR/<image>, DIR/<artifact>/<image>: where CI downloads and batches put them
MAX_JSON_BYTES = 64 << 20  # a report with every measurement is well under a MiB


@dataclass(frozen=True)
class Bundle:
    path: Path
    problems: tuple[str, ...]  # why it does not verify; () when it does
    report: dict[str, Any] = field(default_factory=dict)  # {} when unreadable
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def verified(self) -> bool:
        return not self.problems

    @property
    def image_ref(self) -> str:
        return str((self.info.get("image") or {}).get("ref") or (self.report.get("image") or {}).get("ref") or "")

    @property
    def image_id(self) -> str:
        return str((self.info.get("image") or {}).get("id") or "")

    @property
    def suite_version(self) -> str:
        return str((self.info.get("suite") or {}).get("version") or "")

    @property
    def profile(self) -> str:
        return str((self.info.get("profile") or self.report.get("profile") or {}).get("name") or "")

    @property
    def complete(self) -> bool:
        """A run that reached its end: no requirement left undecided by an interruption (a run
        stopped by its time cap writes its bundle, with those)."""
        return all(INTERRUPTED not in r.get("evidence", []) for r in self.report.get("requirements", []))


def verify(directory: Path) -> list[str]:
    """What is wrong with the bundle in `directory`, a line per failed check; [] when it verifies."""
    try:
        findings = certifier.verify(directory)
    except certifier.Unreadable as exc:
        return [str(exc)]
    except (OSError, ValueError) as exc:  # the certifier names what it cannot read; this is a backstop
        return [f"cannot be read: {exc}"]
    return [f"{finding.check}: {finding.message}" for finding in findings if finding.outcome == "FAIL"]


def read(directory: Path) -> Bundle:
    """The bundle in `directory`, verified; its documents read only when it verifies."""
    problems = verify(directory)
    if problems:
        return Bundle(directory, tuple(problems))
    report, info = _json(directory / "report.json"), _json(directory / bundle.INFO)
    if not isinstance(report, dict) or not isinstance(info, dict):
        return Bundle(directory, ("report.json or certification.json is not a JSON object",))
    return Bundle(directory, (), report, info)


def find(roots: list[Path]) -> list[Path]:
    """Every bundle folder under `roots` (each a bundle itself, or holding bundles up to
    MAX_DEPTH below), in order, each once; a bundle's own subfolders (logs) are not searched."""
    found: list[Path] = []
    for root in roots:
        _walk(root, 0, found)
    unique = list(dict.fromkeys(p.resolve() for p in found))
    return unique


def _walk(directory: Path, depth: int, found: list[Path]) -> None:
    if any((directory / mark).is_file() for mark in MARKS):
        found.append(directory)
        return
    if depth >= MAX_DEPTH:
        return
    try:
        children = sorted(p for p in directory.iterdir() if p.is_dir() and not p.is_symlink())
    except OSError:
        return
    for child in children:
        _walk(child, depth + 1, found)


def _json(path: Path) -> Any:
    try:
        if path.stat().st_size > MAX_JSON_BYTES:
            return None
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
