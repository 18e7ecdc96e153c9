"""The exceptions that cross the suite's layers, in one leaf module (it imports nothing of ours).

What each one means for a run:
- `RequirementFailed` (raised by `fail`): the requirement is not met → `fail`, with its evidence.
- `NotChecked`: another defect, or an input the suite refused, keeps a check from deciding →
  `error`, its message (naming the other ID: "(see READY-200)") as evidence, no traceback.
- `InfrastructureError`: nothing can be decided (no Docker daemon, image absent) → exit 2.
- `ConfigError`, `BundleError`: a bad agent config or certification directory, refused before
  any container starts → exit 2.

Exceptions that never leave the module that raises them live there, each for a reason of its own:
`candidate.engine.DaemonUnavailable` (a requests ConnectionError, so that every handler of Docker
failures handles it), `candidate.inside.NoReader`, `wire.rawhttp.RawHTTPError` (the fuzzer's raw
client), `session.setup.Refused`, and the fuzzer's private signals to Hypothesis.
"""

from __future__ import annotations

from typing import NoReturn


class RequirementFailed(AssertionError):
    """The requirement is not met; `evidence` says what was sent and what came back."""

    def __init__(self, summary: str, evidence: list[str] | tuple[str, ...] = ()):
        super().__init__(summary)
        self.summary = summary
        self.evidence = list(evidence)


def fail(summary: str, evidence: list[str] | tuple[str, ...] = ()) -> NoReturn:
    """End the check: the requirement is not met. `summary` is one sentence; `evidence` the lines
    that show it (the request as curl, what came back)."""
    raise RequirementFailed(summary, evidence)


class NotChecked(RuntimeError):
    """The check cannot decide because of another defect (the message says which ID, "(see X)")
    or an input it refused. Reported as `error`, never as a pass or a second failure."""


def see(requirement_id: str) -> str:
    """`(see READY-200)`: where the reader finds the defect that kept a check from deciding."""
    return f"(see {requirement_id})"


class VulnReportError(NotChecked):
    """A vulnerability report that cannot be used (unreadable, not a Trivy/Grype JSON image scan,
    of another image); the message says why and how to produce a usable one."""


class InfrastructureError(RuntimeError):
    """The run cannot decide anything (no Docker daemon, image absent, …): exit 2, no verdict."""


class ConfigError(ValueError):
    """An agent config that cannot be used; the message says where and what was expected."""


class BundleError(ValueError):
    """The certification bundle's directory cannot be used; the message names it."""
