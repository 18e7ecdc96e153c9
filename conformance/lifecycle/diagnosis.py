"""Which platform constraint breaks a candidate: the read-only root (READONLY-ROOTFS) or the
reserved variables (PLATFORM-ENV). Pure logic over trials that relax one constraint at a time.

A constraint is to blame when the trial under it fails (does not serve, or answers a probe or an
endpoint badly) while the trial without it, all else equal, does not. Problems that every variant
shows are another requirement's (a 204 from /health is HEALTH-200's), never these two.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..wire.modes import Observation
from .variants import Trial

READONLY = "READONLY-ROOTFS"
ENV = "PLATFORM-ENV"

# For each constraint: (with it, without it) trial pairs, the platform's own pair first. The second
# pair decides when both trials of the first fail for the other constraint's sake.
PAIRS: dict[str, tuple[tuple[str, str], ...]] = {
    READONLY: (("platform", "writable"), ("no-env", "writable-no-env")),
    ENV: (("platform", "no-env"), ("writable", "writable-no-env")),
}
STAND_IN_ORDER = ("writable", "no-env", "writable-no-env")  # closest to the platform first


@dataclass(frozen=True)
class Judgement:
    status: str  # pass | fail | undecided
    strict: str = ""  # the trial under the constraint
    relaxed: str = ""  # the trial without it
    labels: tuple[str, ...] = ()  # fail: what fails only under the constraint; pass: what fails anyway
    exited: bool = False  # fail: the strict trial did not serve at all


def suspect(observation: Observation) -> bool:
    """What a refused write or a misread variable looks like from outside: a 5xx or no answer. A
    wrong status or media type (a 204, a redirect, text/plain) is never these constraints' doing."""
    return observation.answer.status is None or observation.answer.status >= 500


def suspects(trial: Trial) -> tuple[str, ...]:
    return tuple(label for label, observation in trial.problems.items() if suspect(observation))


def judge(trials: Mapping[str, Trial], requirement_id: str) -> Judgement:
    """Decide one constraint from the trials at hand; `undecided` when no trial that could tell served."""
    for strict_name, relaxed_name in PAIRS[requirement_id]:
        strict, relaxed = trials.get(strict_name), trials.get(relaxed_name)
        if strict is None:
            continue
        if strict.served and not suspects(strict):
            return Judgement("pass", strict_name, labels=tuple(strict.problems))
        if relaxed is None or not relaxed.served:
            continue  # nothing to compare with: the relaxed trial fails too (or was not made)
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


def stand_in(trials: Mapping[str, Trial], judgements: Mapping[str, Judgement]) -> str | None:
    """The trial the other checks should use instead of the platform's: none while the platform's
    own serves unharmed by its constraints."""
    platform = trials["platform"]
    if platform.served:
        culprit = blame(judgements)
        return judgements[culprit].relaxed if culprit else None
    serving = [name for name in STAND_IN_ORDER if name in trials and trials[name].served]
    # One that also answers every probe and endpoint beats one that merely serves.
    return min(serving, key=lambda name: bool(trials[name].problems), default=None)
