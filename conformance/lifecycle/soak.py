"""STAYS-UP's closing probes: /ready and /health in turn, as a kubelet sends them, only faster.

They go out in a few parallel lanes rather than one after another, so an agent that answers each
request a little late (a 44 ms delayed-ACK stall) does not make the run pay 300 stalls in a row.
Each probe is on a fresh connection (`Connection: close`), as the kubelet's are: a server that
serves one connection at a time still answers every lane in turn, so a lane never waits on
another's idle keep-alive connection and a miss is the server's, not the lanes'. They are sent
raw (`wire.rawprobe`), within the same budgets as every other request: through an httpx client
300 probes cost more CPU than anything else of the suite's. What the check means is kept: every
probe must be answered; the first one left unanswered stops every lane and is reported with its
exchange; the count and the time are bounded.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..errors import NotChecked
from ..wire import exchange

SOAK_REQUESTS = 300  # 25 minutes of liveness and readiness probes at Kubernetes' 10 s period
SOAK_MAX_S = 10.0  # the count is usually spent long before: lanes answer 300 probes in 1–3 s
LANES = 6  # connections at once: enough to hide a per-request stall, few enough for one worker


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


def probe_lanes(probe: Callable[[str], exchange.Exchange], paths: Sequence[str], lanes: int = LANES,
                count: int = SOAK_REQUESTS, max_s: float = SOAK_MAX_S) -> Soak:
    """Probe `paths` in turn, `lanes` at a time (threads); see the module's note."""
    started = time.monotonic()
    claims = _Claims(count, started + max_s)

    def lane() -> None:
        while (number := claims.next()) is not None:
            answer = probe(paths[number % len(paths)])
            if answer.status is None:
                claims.missed(answer)

    threads = [threading.Thread(target=lane, daemon=True) for _ in range(lanes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()  # each probe is bounded by the budgets, so every lane ends
    return Soak(claims.sent, claims.first_miss, time.monotonic() - started, lanes)


def soak(candidate, count: int = SOAK_REQUESTS, max_s: float = SOAK_MAX_S, lanes: int = LANES) -> Soak:
    """The closing probes on a `Candidate`; nothing sent if its port is already gone."""
    try:
        probe = candidate.raw_probe()
    except NotChecked:
        return Soak()
    return probe_lanes(probe, candidate.platform.probe_paths, lanes, count, max_s)
