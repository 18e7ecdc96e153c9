"""The session's end on the controller: results in collection order, the reports, the exit
status from the verdict, and every container, volume and network of the run removed by label."""

from __future__ import annotations

import time

import pytest

from .. import certification, suite
from ..candidate import labels
from ..candidate.engine import connect, for_slow_calls
from ..errors import InfrastructureError
from ..report.results import aggregate
from ..run_state import RunState
from . import reports


def report(config: pytest.Config, state: RunState, interrupted: bool) -> dict:
    """The run's report, written in every form asked for (also kept as `state.report`)."""
    # Results arrive in completion order (under xdist, whichever worker is first): report them
    # in collection order, so two runs of the same image give the same report.
    state.checks.sort(key=lambda c: (state.order.get(c.nodeid, len(state.order)), c.nodeid))
    results = aggregate(state.checks, suite.implemented_ids(), state.run_error, interrupted,
                        requirements=state.profile.requirements())
    state.report = reports.write(config, state, state.image_ref, state.image, results,
                                 time.monotonic() - state.started, state.profile)
    return state.report


def exit_status(state: RunState, exitstatus: int) -> int:
    """2 for a run that could not decide (interrupted, infrastructure, usage), else the verdict's
    (a failing SHOULD is shown but does not fail the run), or the --expected-failures gate's; an
    incomplete certification fails."""
    interrupted = exitstatus == pytest.ExitCode.INTERRUPTED
    if interrupted or state.run_error or exitstatus in (
            pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.NO_TESTS_COLLECTED):
        return 2
    return certification.exit_status(state.report)


def remove_everything(state: RunState) -> str | None:
    """Every container, volume and network of this run, by its label; the line to show when that
    could not be done, else None."""
    if state.daemon_lost or state.watch.down:
        if state.image is not None:  # containers may have been made
            return ("agent-conformance: the Docker daemon is not answering: this run's containers could "
                    "not be removed; the next run removes them (they are labelled)")
        return None
    try:
        labels.remove_labelled(for_slow_calls(connect(watch=state.watch)), {labels.LABEL_RUN: state.run_id})
    except InfrastructureError as exc:
        return f"agent-conformance: cleanup failed: {exc}"
    return None
