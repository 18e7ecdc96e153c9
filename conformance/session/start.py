"""The session's start on the controller: the engine answers, the run context is made (profile,
emulation, scaled budgets, how candidates are reached), orphans of dead runs are reaped, the image
is inspected and, with --no-egress, the run's internal network made. An xdist worker makes its own
context the first time a check asks (`suite/conftest.py`), from the same engine."""

from __future__ import annotations

from ..candidate import labels, sandbox
from ..candidate.engine import connect, for_slow_calls, inspect_image
from ..run_context import RunContext
from ..run_state import RunState


def start(state: RunState) -> None:
    """Fill `state` for the run (context, image) or raise InfrastructureError."""
    client = connect(watch=state.watch)
    state.context = RunContext.on_engine(client, state.profile, state.config.budgets, bool(state.internal_network))
    labels.reap_orphans(for_slow_calls(client))
    state.image = inspect_image(client, state.image_ref)
    if state.internal_network:
        sandbox.create_no_egress_network(client, state.run_id, labels.run_labels(state.run_id, state.owner))
