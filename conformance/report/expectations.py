"""`--expected-failures FILE`: a CI gate on "nothing new broke" instead of the verdict.

The file lists requirement IDs, one a line (`#` starts a comment, e.g. why it is expected):

    IMAGE-EXPOSE-8080   # the base image's EXPOSE is set by the platform team
    GRACEFUL-SHUTDOWN

With it the run fails when a requirement of any level fails or errors and is not listed, and when a
listed requirement now passes (a stale entry: remove it, or the next regression of that ID goes
unnoticed). A listed ID that was not checked (skip) is neither. The verdict in the report is
unchanged: the gate decides only the exit status.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .results import Status

MAX_BYTES = 64 * 1024  # a list of IDs; anything larger is not one


@dataclass(frozen=True)
class Expected:
    source: str
    ids: tuple[str, ...]


def parse(text: str, source: str, known: set[str]) -> Expected:
    """The listed IDs; an unknown or repeated ID is refused naming the file and line (a typo would
    otherwise sit in the list for ever, reported as stale)."""
    ids: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        entry = line.split("#", 1)[0].strip()
        if not entry:
            continue
        if entry not in known:
            raise ConfigError(f"{source}:{number}: {entry!r} is not a requirement ID of this run's profile "
                              f"(see --list-requirements)")
        if entry in ids:
            raise ConfigError(f"{source}:{number}: {entry} is listed twice")
        ids.append(entry)
    return Expected(source, tuple(ids))


def load(path: str | Path, known: set[str]) -> Expected:
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"--expected-failures {path}: cannot be read ({exc.strerror or exc})") from None
    if len(data) > MAX_BYTES:
        raise ConfigError(f"--expected-failures {path}: larger than {MAX_BYTES // 1024} KiB; expected a list of "
                          "requirement IDs")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"--expected-failures {path}: not UTF-8 text; expected a list of requirement IDs") from None
    return parse(text, str(path), known)


def judge(report: dict[str, Any], expected: Expected) -> dict[str, Any]:
    """The gate's section of the report: what failed as expected, what failed unexpectedly, what
    is stale, and whether the gate passes."""
    status = {r["id"]: r["status"] for r in report["requirements"]}
    bad = (Status.FAIL, Status.ERROR)
    unexpected = [rid for rid, s in status.items() if s in bad and rid not in expected.ids]
    stale = [rid for rid in expected.ids if status.get(rid) == Status.PASS]
    return {
        "file": expected.source,
        "listed": list(expected.ids),
        "still_failing": [rid for rid in expected.ids if status.get(rid) in bad],
        "unexpected": unexpected,
        "stale": stale,
        "not_checked": [rid for rid in expected.ids if status.get(rid) in (Status.SKIP, None)],
        "passed": not unexpected and not stale,
    }


def gate_lines(report: dict[str, Any]) -> list[str]:
    """The gate as the terminal and Markdown report say it ([] without --expected-failures)."""
    gate = report.get("expected_failures")
    if not gate:
        return []
    lines = [f"Expected failures ({gate['file']}): gate {'PASSED' if gate['passed'] else 'FAILED'}"
             f" — {len(gate['still_failing'])} failing as listed"]
    if gate["unexpected"]:
        lines.append(f"  unexpected failure (not listed): {', '.join(gate['unexpected'])}")
    if gate["stale"]:
        lines.append(f"  stale (listed, now passes: remove it from the file): {', '.join(gate['stale'])}")
    if gate["not_checked"]:
        lines.append(f"  listed but not checked in this run: {', '.join(gate['not_checked'])}")
    return lines
