"""Check results aggregated per requirement ID, and the verdict.

A requirement is `fail` if any of its checks failed, else `error` if any errored, else `pass` if
any passed; `skip` only when every check was skipped (with the reasons). An ID with no check in
this run is `skip` with the reason (not implemented, or not selected) — never a silent pass.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from collections.abc import Sequence

from ..contract.catalogue import MUST, Requirement
from ..contract.profile import DEFAULT, load


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"
    SKIP = "skip"


# Which status wins when a requirement's checks disagree.
SEVERITY = {Status.FAIL: 3, Status.ERROR: 2, Status.PASS: 1, Status.SKIP: 0}
NOT_IMPLEMENTED = "not implemented"
NOT_SELECTED = "not selected in this run (-k, -m or a path deselected its checks)"
INTERRUPTED = "run interrupted before this requirement was checked"


@dataclass(frozen=True)
class CheckResult:
    check: str  # the check's name (pytest node name)
    requirement_id: str
    status: Status
    evidence: tuple[str, ...] = ()
    duration_s: float = 0.0  # the phase that decided it (call, or the failing setup/teardown)
    nodeid: str = ""  # the full pytest node ID: orders checks and names them in junit.xml


@dataclass
class RequirementResult:
    requirement: Requirement
    status: Status
    evidence: list[str] = field(default_factory=list)
    cause: str = ""  # an `error`'s root cause: the ID whose defect kept it from being checked

    @property
    def id(self) -> str:
        return self.requirement.id


def _combine(requirement: Requirement, checks: list[CheckResult]) -> RequirementResult:
    status = max((c.status for c in checks), key=SEVERITY.__getitem__)
    # The checks that decided the status come first; with several checks, each line says which.
    ordered = sorted(checks, key=lambda c: -SEVERITY[c.status])
    evidence: list[str] = []
    for check in ordered:
        if len(checks) > 1:
            evidence.append(f"[{check.status}] {check.check}")
            evidence += [f"  {line}" for line in check.evidence]
        else:
            evidence += list(check.evidence)
    return RequirementResult(requirement, status, evidence)


def aggregate(
    checks: list[CheckResult], implemented: set[str], run_error: str | None = None, interrupted: bool = False,
    requirements: Sequence[Requirement] | None = None,
) -> list[RequirementResult]:
    """One result per requirement of the run's profile (`Profile.requirements`; the OCI
    catalogue by default), in catalogue order.

    `run_error`: the run could not decide anything (infrastructure); every ID without a result is
    `error` with that reason. `interrupted`: IDs not reached are `error` ("run interrupted").
    """
    by_id: dict[str, list[CheckResult]] = {}
    for check in checks:
        by_id.setdefault(check.requirement_id, []).append(check)
    results = []
    for requirement in requirements if requirements is not None else load(DEFAULT).requirements():
        mine = by_id.get(requirement.id)
        if mine:
            results.append(_combine(requirement, mine))
        elif run_error:
            results.append(RequirementResult(requirement, Status.ERROR, [run_error]))
        elif interrupted:
            results.append(RequirementResult(requirement, Status.ERROR, [INTERRUPTED]))
        elif requirement.id in implemented:
            results.append(RequirementResult(requirement, Status.SKIP, [NOT_SELECTED]))
        else:
            results.append(RequirementResult(requirement, Status.SKIP, [NOT_IMPLEMENTED]))
    _trace_causes(results)
    return results


_SEE = re.compile(r"\(see ([^()\s]+)\)")  # errors.see()'s words


def _trace_causes(results: list[RequirementResult]) -> None:
    """Each `error` that names another requirement's defect ("(see READY-200)") gets the root of
    that chain as its `cause`: a requirement that failed on its own evidence, or one that errs
    naming nothing further (an error of its own)."""
    by_id = {r.id: r for r in results}

    def named(result: RequirementResult) -> str:
        for line in result.evidence:
            for rid in _SEE.findall(line):
                other = by_id.get(rid)
                if rid != result.id and other is not None and other.status in (Status.FAIL, Status.ERROR):
                    return rid
        return ""

    for result in results:
        if result.status != Status.ERROR:
            continue
        seen, current = {result.id}, named(result)
        while current and by_id[current].status == Status.ERROR:
            seen.add(current)
            further = named(by_id[current])
            if not further or further in seen:
                break
            current = further
        result.cause = current


def causes(rows) -> tuple[list[str], dict[str, list[str]]]:
    """From the report's rows: (the MUSTs not met on their own evidence, or erring naming no
    other; and for each requirement whose defect kept MUSTs from being checked, those MUSTs).
    The first are the verdict's causes, the second its knock-ons, never headlined as causes."""
    own: list[str] = []
    knocked: dict[str, list[str]] = {}
    for r in rows:
        if r["level"] != MUST or r["status"] not in (Status.FAIL, Status.ERROR):
            continue
        cause = r.get("cause", "") if r["status"] == Status.ERROR else ""
        if cause:
            knocked.setdefault(cause, []).append(r["id"])
        else:
            own.append(r["id"])
    return own, knocked


def verdict(results: list[RequirementResult]) -> str:
    """`fail` when any MUST requirement is `fail` or `error`."""
    failed = any(r.requirement.level == MUST and r.status in (Status.FAIL, Status.ERROR) for r in results)
    return Status.FAIL if failed else Status.PASS
