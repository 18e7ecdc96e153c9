"""Every declared endpoint's answer to every Accept value the negotiation and SSE checks use, asked
for together: on an agent whose every answer takes seconds (a model behind it) they cost the time
of the slowest, not of all of them in turn.

They may be asked for the moment the shared candidate is ready (`start`), beside the first calls
(`modes.call_at_ready`), so that the checks find them answered instead of waiting a model's latency
once more. Kept only when the first calls were served by that same candidate (`keep_if`); else
they are asked for again, from the candidate the checks use, once it has settled.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from ..contract.agent_config import Endpoint
from . import modes, streaming

PARALLEL_ANSWERS = 6  # at once: a declared endpoint's six answers overlap a model's latency


class EndpointAnswers:
    """`get(endpoint, accept)`: an Exchange (JSON-mode Accept values) or a StreamCapture (event
    stream ones). `on_stream(endpoint, accept, capture)` is told of each capture the checks use
    (the plots)."""

    def __init__(self, endpoints: tuple[Endpoint, ...], on_stream: Callable[[Endpoint, str, object], None]):
        self.wanted = [(endpoint, accept) for endpoint in endpoints
                       for accept in (*modes.JSON_ACCEPTS, *modes.SSE_ACCEPTS)]
        self.on_stream = on_stream
        self._lock = threading.Lock()
        self._early: dict[tuple[str, str | None], Future] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._answers: dict[tuple[str, str | None], object] = {}

    def start(self, candidate) -> None:
        """Ask for every answer but the JSON-mode one (the first calls hold it) now, in the background."""
        self._pool = ThreadPoolExecutor(max_workers=PARALLEL_ANSWERS, thread_name_prefix="answers-early")
        self._early = {(e.label, a): self._pool.submit(_fetch, candidate, e, a, None)
                       for e, a in self.wanted if a != modes.JSON_MODE}

    def keep_if(self, kept: bool) -> None:
        """Keep the early answers (`kept`), or let them go: they were asked of a candidate the checks
        do not use, or of one that had not settled."""
        if self._pool is None:
            return
        if not kept:
            self._early = {}
        self._pool.shutdown(wait=False)  # each answer is bounded by the budgets

    def get(self, candidate, endpoint: Endpoint, accept: str | None):
        with self._lock:
            if not self._answers:
                with ThreadPoolExecutor(max_workers=PARALLEL_ANSWERS, thread_name_prefix="answers") as pool:
                    futures = {(e.label, a): self._early.get((e.label, a))
                               or pool.submit(_fetch, candidate, e, a, candidate.startup.first_calls)
                               for e, a in self.wanted}
                    self._answers = {key: future.result() for key, future in futures.items()}
                for e, a in self.wanted:
                    if a in modes.SSE_ACCEPTS:
                        self.on_stream(e, a, self._answers[(e.label, a)])
            return self._answers[(endpoint.label, accept)]


def _fetch(candidate, endpoint: Endpoint, accept: str | None, first_calls):
    with candidate.client_http() as own:  # a connection of its own: the answers come in parallel
        if accept in modes.SSE_ACCEPTS:
            return streaming.capture(own, endpoint, accept)  # anew, with the arrival times of its events
        # The JSON answer of the first calls serves as it is (one call fewer per endpoint).
        return (first_calls and modes.served_first(first_calls, endpoint, accept)) or modes.call(own, endpoint, accept)
