"""What the platform does to a container over its life, done to a candidate: replace it (a fresh
container), stop it with SIGTERM (mid-stream) and start it again, and watch the shared one for
the whole run. Each scenario starts its own candidate and removes it; every wait is bounded.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import docker.errors
import requests.exceptions

from ..candidate import signals
from ..candidate.container import Candidate
from ..candidate.engine import first_line
from ..candidate.readiness import Startup
from ..contract.agent_config import AgentConfig
from ..errors import NotChecked
from ..wire import exchange, mediatype, modes
from ..wire.streaming import StreamInFlight
from .soak import SOAK_REQUESTS, Soak, soak  # noqa: F401  (STAYS-UP's closing probes, re-exported)
from .variants import CRITICAL_POLL_S, LOG_LINES, Make, Trial, conduct

_DOCKER_ERRORS = (docker.errors.DockerException, requests.exceptions.RequestException)


# -- answers compared across runs ----------------------------------------------------------------
def signature(answer: exchange.Exchange) -> str:
    """What must stay the same across restarts: the status and the media type."""
    if answer.status is None:
        return "no answer"
    return f"{answer.status} {mediatype.essence(answer.content_type) or '(no Content-Type)'}"


def differences(first: Sequence[modes.Observation], again: Sequence[modes.Observation]) -> list[str]:
    """One line per request whose status or media type changed; empty if all answered alike."""
    before = {o.what: signature(o.answer) for o in first}
    lines = []
    for observation in again:
        was = before.get(observation.what)
        now = signature(observation.answer)
        if was is not None and was != now:
            lines.append(f"{observation.what}: {was} in the first run, now {now}")
    return lines


# -- replaced, restarted and stopped ------------------------------------------------------------
@dataclass
class RestartTrial:
    """A fresh container (`fresh`), stopped with SIGTERM and started again, which is what the
    platform does when it restarts a container (`docker restart`): the stop is GRACEFUL-SHUTDOWN's
    measurement, sent while the first declared endpoint streams (idle when none is declared), the
    harder of the two cases. One container and one stop for both checks: each boot costs about a
    core-second and each stop a few tenths, and this chain is the run's longest path."""

    fresh: Trial
    stop: signals.Shutdown | None = None
    restarted: Startup | None = None
    observations: list[modes.Observation] = field(default_factory=list)
    addresses: tuple = (None, None)  # where 8080 was reached before and after: (host, port) each
    log: list[str] = field(default_factory=list)
    error: str = ""


def restart(make: Make, variant: str, config: AgentConfig,
            dispose: Callable[[Candidate], object] = Candidate.remove,
            started: Callable[[], object] | None = None) -> RestartTrial:
    """`dispose(candidate)` removes its container once done: the session hands that to a thread
    of its own, so the result is not kept waiting for the engine (0.2 s) on the run's longest path.
    `started()`: called once the engine has started the fresh container (`variants.conduct`)."""
    trial = conduct(make, variant, config, keep=True, role="restart", poll_s=CRITICAL_POLL_S, started=started,
                    dispose=dispose)
    result = RestartTrial(trial)
    if not trial.served:
        return result
    candidate = trial.candidate
    try:
        before = candidate.address()
        result.stop = (sigterm_mid_stream(candidate, config) if config.endpoints
                       else signals.sigterm(candidate.container, "while idle", candidate.pid1(),
                                            candidate.platform.grace_s))
        candidate.start_again()
        result.restarted = candidate.wait_ready(candidate.budgets.startup_s, poll_s=CRITICAL_POLL_S)
        if result.restarted.serving:
            result.addresses = (before, candidate.address())  # a new one: asked again
            with candidate.client_http() as client:
                result.observations = modes.exercise(client, config, platform=candidate.platform)
        result.log = candidate.log_tail(LOG_LINES)
    except NotChecked as exc:
        result.error = str(exc)
    except _DOCKER_ERRORS as exc:
        result.error = f"Docker failed to restart the container: {first_line(exc)}"
    finally:
        dispose(candidate)
    return result


def sigterm_mid_stream(candidate: Candidate, config: AgentConfig) -> signals.Shutdown:
    """SIGTERM while the first declared endpoint streams (or right after, if its stream is over
    before the signal can be sent), on a serving candidate that is left stopped."""
    endpoint = config.endpoints[0]
    try:
        stream = StreamInFlight(candidate.client_http(), endpoint)
        in_flight = stream.start()
        when = (f"while {endpoint.label} streamed" if in_flight
                else f"after {endpoint.label} (Accept: {mediatype.EVENT_STREAM}) {stream.ended or 'sent nothing'}")
        stop = signals.sigterm(candidate.container, when, candidate.pid1(), candidate.platform.grace_s)
        seen = stream.finish()  # joined either way: bounded by the request timeout
        stop.stream = seen if in_flight else ""
        return stop
    except NotChecked as exc:  # its port is gone: it exited on its own
        return signals.Shutdown("mid-stream", signals.Pid1("", None), error=str(exc), grace_s=candidate.platform.grace_s)
    except _DOCKER_ERRORS as exc:
        return signals.Shutdown("mid-stream", signals.Pid1("", None), error=f"Docker failed: {first_line(exc)}",
                                grace_s=candidate.platform.grace_s)


# -- the shared candidate over the whole run (STAYS-UP) ------------------------------------------
@dataclass(frozen=True)
class Baseline:
    started_at: str
    restart_count: int
    health: exchange.Exchange


def baseline(candidate: Candidate) -> Baseline | None:
    """How the shared candidate stands once settled; None if it is already gone."""
    try:
        state = candidate.reload()
        with candidate.client_http() as client:
            health = exchange.request(client, "GET", candidate.platform.health_path)
    except (NotChecked, *_DOCKER_ERRORS):
        return None
    return Baseline(state["State"].get("StartedAt", ""), int(state.get("RestartCount") or 0), health)


def health(candidate: Candidate) -> exchange.Exchange:
    """GET /health now; an answer-less Exchange when the container has no port any more."""
    try:
        with candidate.client_http() as client:
            return exchange.request(client, "GET", candidate.platform.health_path)
    except NotChecked as exc:
        return exchange.Exchange("GET", candidate.platform.health_path, (), None, None, error=str(exc),
                                 user_url=candidate.platform.user_url)


def await_exit(candidate: Candidate, within_s: float = 2.0, poll_s: float = 0.05) -> None:
    """Wait (bounded) until Docker sees the container stop, if it is about to."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline and candidate.state().get("Running"):
        time.sleep(poll_s)
