"""A trial: one candidate under one variant of the platform's constraints, exercised as the
platform would use it — how its start ended, what the probes and every declared endpoint answered
in JSON and SSE mode, the tail of its log and, on a writable root, what it changed on disk (`docker
diff`, taken right after).

Variants are named by the constraints they relax, so a defect can be pinned on the constraint that
causes it (see `diagnosis`): "platform" (read-only root, reserved variables), "writable",
"no-env" and "writable-no-env".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import docker.errors
import requests.exceptions

from ..candidate import changes
from ..candidate.container import Candidate, Constraints
from ..candidate.engine import first_line
from ..candidate.readiness import Startup
from ..contract.agent_config import AgentConfig
from ..errors import NotChecked
from ..wire import modes

LOG_LINES = 200  # scanned for the agent's own words; only matching lines are shown
# Polling readiness costs the Docker daemon CPU that the shared candidate's checks want at the same
# time; these trials are not timed to the tenth of a second. The restart trial is: its two boots
# in a row are the run's longest path, so it polls at the shared candidate's pace.
POLL_S = 0.2
CRITICAL_POLL_S = 0.1

# name → (read-only root, reserved variables injected)
VARIANTS: dict[str, tuple[bool, bool]] = {
    "platform": (True, True),
    "writable": (False, True),
    "no-env": (True, False),
    "writable-no-env": (False, False),
}
DESCRIPTIONS = {
    "platform": "under the platform's constraints",
    "writable": "on a writable root",
    "no-env": "without the reserved variables",
    "writable-no-env": "on a writable root and without the reserved variables",
}

# Makes a candidate of this run (not yet started): constraints, and the trial it serves.
Make = Callable[[Constraints, str], Candidate]


def variant_name(read_only: bool, env: bool) -> str:
    return next(name for name, key in VARIANTS.items() if key == (read_only, env))


def constraints_for(name: str, role: str | None = None) -> Constraints:
    read_only, env = VARIANTS[name]
    # On a writable root the declared volumes are left to Docker (writable anonymous volumes), so
    # a write there is pinned on the read-only root, not on the volume mask.
    return Constraints(read_only_root=read_only, reserved_env=env, mask_volumes=read_only, role=role or name)


@dataclass
class Trial:
    name: str  # the variant
    candidate: Candidate | None
    startup: Startup | None = None
    observations: list[modes.Observation] = field(default_factory=list)
    changes: list[dict] | None = None  # docker diff after the exercise (writable trials)
    log: list[str] = field(default_factory=list)
    error: str = ""  # it could not be started at all

    @property
    def served(self) -> bool:
        return not self.error and self.startup is not None and self.startup.serving

    @property
    def problems(self) -> dict[str, modes.Observation]:
        """What failed in the exercise, by what was sent ("POST /chat (Accept: text/event-stream)")."""
        return {o.what: o for o in self.observations if o.problem}

    @property
    def description(self) -> str:
        return DESCRIPTIONS[self.name]

    def failure(self) -> str:
        """Why it did not serve, in one sentence."""
        if self.error:
            return self.error
        return self.startup.cause() if self.startup else "not started"


def conduct(make: Make, name: str, config: AgentConfig, *, diff: bool = False, keep: bool = False,
            role: str | None = None, exercise: bool = True, poll_s: float = POLL_S,
            cpu_shares: int | None = None, started: Callable[[], object] | None = None,
            dispose: Callable[[Candidate], object] = Candidate.remove) -> Trial:
    """Start a candidate of this variant, wait for it, exercise it; never raises. `keep`: leave it
    running (a stand-in), else it is removed when done (`dispose`: the session's removes it in a
    thread, so a trial the diagnosis waits on is not kept waiting for the engine). `cpu_shares`:
    its weight when the cores are contended (Docker's default is 1024). `started()` is called once
    the engine has started it (or refused to), whatever happens next."""
    try:
        constraints = replace(constraints_for(name, role), cpu_shares=cpu_shares)
        candidate = make(constraints, f"lifecycle-{role or name}")  # names its kept log
    except NotChecked as exc:  # the session is ending
        return Trial(name, None, error=str(exc))
    trial = Trial(name, candidate)
    try:
        _start(candidate, started)
        # As the shared candidate: the endpoints called the moment /ready says 200 (READY-TRUTHFUL),
        # so a stand-in is judged the same way.
        trial.startup = candidate.wait_ready(candidate.budgets.startup_s, poll_s=poll_s,
                                             on_ready=lambda http: modes.call_at_ready(http, config))
        if trial.served and exercise:
            with candidate.client_http() as client:
                trial.observations = modes.exercise(client, config, trial.startup.first_calls,
                                                    platform=candidate.platform)
            if diff:
                candidate.reload()
                trial.changes = changes.container_changes(candidate.container)
        trial.log = candidate.log_tail(LOG_LINES)
    except NotChecked as exc:
        trial.error = str(exc)
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        trial.error = f"Docker failed during the {name} trial: {first_line(exc)}"
    finally:
        if not keep or not trial.served:
            dispose(candidate)
    return trial


def _start(candidate: Candidate, started: Callable[[], object] | None) -> None:
    try:
        candidate.start()
    finally:
        if started is not None:
            started()
