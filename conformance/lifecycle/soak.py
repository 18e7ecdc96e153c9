"""STAYS-UP's closing probes: /ready and /health in turn, as a kubelet sends them, only faster.

They go out in a few parallel lanes rather than one after another, so an agent that answers each
request a little late (a 44 ms delayed-ACK stall) does not make the run pay 300 stalls in a row.
Each probe is on a fresh connection (`Connection: close`), as the kubelet's are: a server that
serves one connection at a time still answers every lane in turn, so a lane never waits on
another's idle keep-alive connection and a miss is the server's, not the lanes'. What the check
means is kept: every probe must be answered; the first one left unanswered stops every lane and is
reported with its exchange; the count and the time are bounded.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from ..errors import NotChecked
from ..wire import exchange

SOAK_REQUESTS = 300  # 25 minutes of liveness and readiness probes at Kubernetes' 10 s period
SOAK_MAX_S = 10.0  # the count is usually spent long before: lanes answer 300 probes in 1–3 s
LANES = 6  # connections at once: enough to hide a per-request stall, few enough for one worker
_FRESH = {"Connection": "close"}


@dataclass
class Soak:
    sent: int = 0
    first_miss: exchange.Exchange | None = None  # the first probe without an answer
    elapsed_s: float = 0.0
    lanes: int = 0


class _Claims:
    """Hands out probe numbers to the lanes until the count or the time is spent or a probe went
    unanswered; keeps that first miss."""

    def __init__(self, count: int, deadline: float):
        self._lock = threading.Lock()
        self._count, self._deadline = count, deadline
        self.sent = 0
        self.first_miss: exchange.Exchange | None = None

    def next(self) -> int | None:
        with self._lock:
            if self.first_miss is not None or self.sent >= self._count or time.monotonic() >= self._deadline:
                return None
            self.sent += 1
            return self.sent - 1

    def missed(self, answer: exchange.Exchange) -> None:
        with self._lock:
            if self.first_miss is None:
                self.first_miss = answer


def probe_lanes(clients: Sequence[httpx.Client], paths: Sequence[str], count: int = SOAK_REQUESTS,
                max_s: float = SOAK_MAX_S) -> Soak:
    """Probe `paths` in turn over `clients`, one lane (thread) per client; see the module's note."""
    started = time.monotonic()
    claims = _Claims(count, started + max_s)

    def lane(client: httpx.Client) -> None:
        while (number := claims.next()) is not None:
            answer = exchange.request(client, "GET", paths[number % len(paths)], headers=_FRESH)
            if answer.status is None:
                claims.missed(answer)

    threads = [threading.Thread(target=lane, args=(client,), daemon=True) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()  # each probe is bounded by the client's budgets, so every lane ends
    return Soak(claims.sent, claims.first_miss, time.monotonic() - started, len(clients))


def soak(candidate, count: int = SOAK_REQUESTS, max_s: float = SOAK_MAX_S, lanes: int = LANES) -> Soak:
    """The closing probes on a `Candidate`; nothing sent if its port is already gone."""
    clients: list[httpx.Client] = []
    try:
        for _ in range(lanes):
            clients.append(candidate.client_http())
    except NotChecked:
        pass
    try:
        if not clients:
            return Soak()
        return probe_lanes(clients, candidate.platform.probe_paths, count, max_s)
    finally:
        for client in clients:
            client.close()
