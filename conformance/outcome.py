"""How a check says what it found: `fail(summary, evidence)` for a requirement not met, evidence
lines for a pass, and the mapping of a pytest outcome to pass / fail / error / skip."""

from __future__ import annotations

from typing import NoReturn

import pytest

from .candidate import CandidateUnavailable
from .engine import daemon_down, first_line
from .vulns import VulnReportError

# Raised when another defect or a refused input keeps a check from deciding: `error`, its reason
# as evidence, no traceback.
NOT_CHECKED = (CandidateUnavailable, VulnReportError)


class RequirementFailed(AssertionError):
    """The requirement is not met; `evidence` says what was sent, what came back."""

    def __init__(self, summary: str, evidence: list[str] | tuple[str, ...] = ()):
        super().__init__(summary)
        self.summary = summary
        self.evidence = list(evidence)


def fail(summary: str, evidence: list[str] | tuple[str, ...] = ()) -> NoReturn:
    raise RequirementFailed(summary, evidence)


def classify(excinfo: pytest.ExceptionInfo | None, when: str) -> tuple[str, list[str]]:
    """(status, evidence lines) for a phase that raised."""
    if excinfo is None:
        return "pass", []
    exc = excinfo.value
    if isinstance(exc, pytest.skip.Exception):
        return "skip", [str(exc.msg if hasattr(exc, "msg") else exc)]
    if isinstance(exc, RequirementFailed):
        return "fail", [exc.summary, *exc.evidence]
    if isinstance(exc, NOT_CHECKED):
        return "error", [f"not checked: {exc}"]
    if daemon_down():  # whatever the check met, this is why
        return "error", [f"not checked: {daemon_down()}"]
    if isinstance(exc, AssertionError) and when == "call":
        return "fail", str(exc).splitlines()[:20] or ["assertion failed"]
    return "error", [f"the check could not run ({when}): {type(exc).__name__}: {first_line(exc)}"]
