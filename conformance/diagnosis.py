"""Which platform constraint breaks a candidate: the read-only root (READONLY-ROOTFS) or the
reserved variables (PLATFORM-ENV). Pure logic over runs that relax one constraint at a time.

A constraint is to blame when the run under it fails (does not serve, or answers a probe or an
endpoint badly) while the run without it, all else equal, does not. Problems that every variant
shows are another requirement's (a 204 from /health is HEALTH-200's), never these two.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .endpoints import Outcome
from .runs import Run

READONLY = "READONLY-ROOTFS"
ENV = "PLATFORM-ENV"

# For each constraint: (with it, without it) run pairs, the platform's own pair first. The second
# pair decides when both runs of the first fail for the other constraint's sake.
PAIRS: dict[str, tuple[tuple[str, str], ...]] = {
    READONLY: (("platform", "writable"), ("no-env", "writable-no-env")),
    ENV: (("platform", "no-env"), ("writable", "writable-no-env")),
}
STAND_IN_ORDER = ("writable", "no-env", "writable-no-env")  # closest to the platform first


@dataclass(frozen=True)
class Judgement:
    status: str  # pass | fail | undecided
    strict: str = ""  # the run under the constraint
    relaxed: str = ""  # the run without it
    labels: tuple[str, ...] = ()  # fail: what fails only under the constraint; pass: what fails anyway
    exited: bool = False  # fail: the strict run did not serve at all


def suspect(outcome: Outcome) -> bool:
    """What a refused write or a misread variable looks like from outside: a 5xx or no answer. A
    wrong status or media type (a 204, a redirect, text/plain) is never these constraints' doing."""
    return outcome.answer.status is None or outcome.answer.status >= 500


def suspects(run: Run) -> tuple[str, ...]:
    return tuple(label for label, outcome in run.problems.items() if suspect(outcome))


def judge(runs: Mapping[str, Run], requirement_id: str) -> Judgement:
    """Decide one constraint from the runs at hand; `undecided` when no run that could tell served."""
    for strict_name, relaxed_name in PAIRS[requirement_id]:
        strict, relaxed = runs.get(strict_name), runs.get(relaxed_name)
        if strict is None:
            continue
        if strict.served and not suspects(strict):
            return Judgement("pass", strict_name, labels=tuple(strict.problems))
        if relaxed is None or not relaxed.served:
            continue  # nothing to compare with: the relaxed run fails too (or was not made)
        if not strict.served:
            return Judgement("fail", strict_name, relaxed_name, exited=True)
        only = tuple(label for label in suspects(strict) if label not in relaxed.problems)
        if only:
            return Judgement("fail", strict_name, relaxed_name, only)
        return Judgement("pass", strict_name, relaxed_name, tuple(strict.problems))
    return Judgement("undecided")


def blame(judgements: Mapping[str, Judgement]) -> str | None:
    """The ID that owns the platform candidate's failure, catalogue order first."""
    return next((rid for rid in (READONLY, ENV) if judgements[rid].status == "fail"), None)


def stand_in(runs: Mapping[str, Run], judgements: Mapping[str, Judgement]) -> str | None:
    """The run the other checks should use instead of the platform's: none while the platform's
    own serves unharmed by its constraints."""
    platform = runs["platform"]
    if platform.served:
        culprit = blame(judgements)
        return judgements[culprit].relaxed if culprit else None
    serving = [name for name in STAND_IN_ORDER if name in runs and runs[name].served]
    # One that also answers every probe and endpoint beats one that merely serves.
    return min(serving, key=lambda name: bool(runs[name].problems), default=None)
