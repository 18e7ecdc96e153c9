"""How a check's pytest outcome becomes its status: pass, fail (`fail()` or a bare assertion),
error (another defect kept it from deciding, or it could not run) or skip (with its reason)."""

from __future__ import annotations

import pytest

from .candidate.engine import first_line
from .errors import NotChecked, RequirementFailed
from .report.results import Status


def classify(excinfo: pytest.ExceptionInfo | None, when: str, daemon_down: str = "") -> tuple[Status, list[str]]:
    """(status, evidence lines) for a phase of a check (setup, call, teardown); `daemon_down`: why
    the run's Docker daemon is taken for gone, if it is (then that is why the check errs)."""
    if excinfo is None:
        return Status.PASS, []
    exc = excinfo.value
    if isinstance(exc, pytest.skip.Exception):
        return Status.SKIP, [str(exc.msg if hasattr(exc, "msg") else exc)]
    if isinstance(exc, RequirementFailed):
        return Status.FAIL, [exc.summary, *exc.evidence]
    if isinstance(exc, NotChecked):
        return Status.ERROR, [f"not checked: {exc}"]
    if daemon_down:  # whatever the check met, this is why
        return Status.ERROR, [f"not checked: {daemon_down}"]
    if isinstance(exc, AssertionError) and when == "call":
        return Status.FAIL, str(exc).splitlines()[:20] or ["assertion failed"]
    return Status.ERROR, [f"the check could not run ({when}): {type(exc).__name__}: {first_line(exc)}"]
