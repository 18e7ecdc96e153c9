"""A round's requests, generated without sending anything. A seeded Hypothesis run generates the same
requests whatever the test does until it first fails, so a round's requests can be generated in a
thread ahead of the round (`Generation`), sent as they come, and then replayed from the memo by the
round itself.

Hypothesis is imported when requests are first generated, not with this module: the suite's
process imports it while its candidates boot (`warm_up`), not before the first is started (it is
a seventh of the imports a run makes before then, ~0.1 s).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterable

from ..contract.agent_config import Endpoint
from ..warm_imports import in_background
from ..wire import rawhttp

END = object()  # the generation has given every request


def choose_seed(seed: int | None, derandomize: bool = False) -> int:
    """The first round's seed: the one given; without one 0 when `derandomize`, else a random one."""
    return seed if seed is not None else 0 if derandomize else random.getrandbits(32)


def warm_up() -> threading.Thread:
    """Import what generating and the campaign need (Hypothesis and the strategies with it), in a
    thread: started once the candidates are starting, it overlaps their boot instead of delaying
    the first of them."""
    return in_background(f"{__package__}.campaign", "fuzz-import")


def strategy_for(endpoints: Iterable[Endpoint]):
    """Requests around the declared endpoints (a Hypothesis strategy of `rawhttp.RawRequest`)."""
    from hypothesis import strategies as st

    from . import strategies

    return st.one_of([strategies.requests_for(e.method, e.path, e.json if isinstance(e.json, dict) else None)
                      for e in endpoints])


def same_everywhere() -> None:
    """Make a seed generate the same requests in every process (the pregenerating child, the suite
    run as a command or under pytest, installed or from a checkout): Hypothesis also draws literals
    it mines from the "local" modules loaded at the time, which are the suite's own (never the
    agent's) and differ from process to process. Process-wide; the literals only ever added noise
    to requests sent to someone else's server. Quietly nothing if Hypothesis changes its insides."""
    try:
        from hypothesis.internal.conjecture import providers

        if getattr(providers._get_local_constants, "_conformance", False):
            return
        empty = providers.Constants()

        def no_local_constants():
            return empty

        no_local_constants._conformance = True
        providers._get_local_constants = no_local_constants
        providers.CONSTANTS_CACHE.cache.clear()
    except (ImportError, AttributeError):
        pass


def generate(strategy, examples: int, seed: int, sink: Callable[[rawhttp.RawRequest], None]) -> None:
    """Give `sink` the requests a round with this seed will generate, without sending any (CPU only)."""
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from hypothesis import seed as hypothesis_seed

    same_everywhere()

    @hypothesis_seed(seed)
    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck),
              verbosity=Verbosity.quiet, phases=(Phase.generate,), print_blob=False)
    @given(strategy)
    def collect(request):
        sink(request)

    collect()


class _Stopped(BaseException):
    """Raised into the generation when nobody will send what it makes any more."""


class Generation:
    """A round's requests, generated in a thread and handed out as they come: sending starts with
    the first one instead of after the last (generation costs about 2 ms of CPU a request)."""

    def __init__(self, strategy, examples: int, seed: int):
        self.requests: list[rawhttp.RawRequest] = []
        self.complete = False  # every example was generated (not stopped)
        self.error: BaseException | None = None
        self._given = 0
        self._done = self._stopped = False
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, args=(strategy, examples, seed), daemon=True,
                                        name="fuzz-generate")
        self._thread.start()

    @property
    def failed(self) -> bool:
        """It ended short on its own (a child process that died): the round makes the rest."""
        return self._done and not (self.complete or self._stopped or self.error)

    def _produce(self, strategy, examples: int, seed: int) -> bool:
        """Hand every request to `_add`; True when all `examples` were made."""
        generate(strategy, examples, seed, self._add)
        return True

    def _run(self, strategy, examples: int, seed: int) -> None:
        try:
            self.complete = self._produce(strategy, examples, seed)
        except _Stopped:
            pass
        except BaseException as exc:  # noqa: BLE001 - handed to the campaign's thread (`finish`)
            self.error = exc
        finally:
            with self._cond:
                self._done = True
                self._cond.notify_all()

    def _add(self, request: rawhttp.RawRequest) -> None:
        with self._cond:
            if self._stopped:
                raise _Stopped
            self.requests.append(request)
            self._cond.notify_all()

    def next_ready(self, block: bool):
        """The next request; None if there is none yet (and not `block`); `END` after the last."""
        with self._cond:
            while self._given >= len(self.requests) and not self._done:
                if not block:
                    return None
                self._cond.wait(0.5)
            if self._given < len(self.requests):
                self._given += 1
                return self.requests[self._given - 1]
            return END

    def finish(self, timeout_s: float = 10.0) -> None:
        """Stop generating and wait for the thread; raise what the generation met, if anything."""
        with self._cond:
            self._stopped = True
        self._thread.join(timeout_s)
        if self.error is not None:
            raise self.error


class Fixed:
    """Requests known in advance (`hazards`), handed out as a `Generation` hands out its own."""

    def __init__(self, requests: list[rawhttp.RawRequest]):
        self.requests = list(requests)
        self.complete = True
        self._given = 0

    def next_ready(self, block: bool):
        if self._given < len(self.requests):
            self._given += 1
            return self.requests[self._given - 1]
        return END

    def finish(self, timeout_s: float = 10.0) -> None:
        pass
