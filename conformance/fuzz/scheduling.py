"""When generated requests go out: the campaign's wall-clock cap (`Deadline`), and a round's requests
sent ahead, several at once, as their generation gives them (`SendAhead`).

An agent that calls a model takes seconds per answer, so a round's requests are not sent one at a
time. What an answer shows on its own (a 5xx, a body that breaks its media type) is memoised at
once; an answer that needs /health afterwards is memoised once a probe after it finds /health as
before. When the container exits, or /health changes, the requests since the last good probe stay
unjudged: the round sends them again, one at a time.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from ..wire import rawhttp
from .generation import END, Generation
from .judging import TIMED_OUT, Judge, Memo, no_answer_key
from .sending import Sender

PROBE_AHEAD_EVERY = 8  # sending ahead: GET /health after this many answers (and at the end)
_LOOK_FOR_MORE_S = 0.02  # while requests are still being generated, look for new ones this often
TOO_LATE_FOR_THE_ENDPOINT = ("stopped sending to the declared endpoint before the time cap: its answers take "
                             "longer than the time left")


class Deadline:
    """The campaign's wall-clock cap, and whether a request to a declared endpoint (a model's
    answer, not the quick refusals) still fits before it."""

    def __init__(self, cap_s: float):
        self.cap_s = cap_s
        self.started = time.monotonic()
        self.cap = self.started + cap_s
        self._slow_s: list[float] = []  # how long the requests to a declared endpoint took
        self._lock = threading.Lock()

    def passed(self) -> bool:
        return time.monotonic() > self.cap

    def elapsed_s(self) -> float:
        return time.monotonic() - self.started

    def took(self, seconds: float) -> None:
        """A request to a declared endpoint took this long."""
        with self._lock:
            self._slow_s.append(seconds)

    def too_late_for_the_endpoint(self) -> bool:
        """Whether a request to a declared endpoint, taking as long as the longest one so far, would
        still be in flight at the cap: its lane is better left to quick requests, or idle."""
        with self._lock:
            longest = max(self._slow_s, default=0.0)
        return time.monotonic() + longest > self.cap


class _Queues:
    """The generated requests not sent yet, in two queues. Requests to a declared endpoint may take
    a model's seconds; the rest (other paths and methods, malformed heads) answer at once. The slow
    ones get half the lanes at most, so the quick ones keep flowing beside them."""

    def __init__(self, generation: Generation, memo: Memo, sender: Sender, concurrency: int):
        self.generation, self.memo, self.sender = generation, memo, sender
        self.more = True  # the generation may still give requests
        self.queued: set[bytes] = set()
        self.slow: deque[tuple[bytes, rawhttp.RawRequest]] = deque()
        self.quick: deque[tuple[bytes, rawhttp.RawRequest]] = deque()
        self.slow_lanes = max(1, concurrency // 2)
        self.out_of_time = False  # only slow requests were left, and none would be answered before the cap

    def empty(self) -> bool:
        return not self.slow and not self.quick

    def take(self, block: bool) -> None:
        """Queue what the generation has given so far (waiting for one more if `block`); requests
        already answered are left out."""
        while self.more:
            request = self.generation.next_ready(block)
            if request is None:
                return  # nothing new yet
            if request is END:
                self.more = False
                return
            key = Memo.key(request)
            if key not in self.memo.shown and key not in self.queued:
                self.queued.add(key)
                (self.slow if self.sender.reaches_endpoint(request) else self.quick).append((key, request))
                block = False

    def pick(self, slow_in_flight: int, too_late: Callable[[], bool]) -> deque | None:
        """The queue to send from next, None if none may: both are empty, or only slow requests
        wait and one would still be in flight at the cap (`too_late()`)."""
        queue = self.slow if self.slow and (slow_in_flight < self.slow_lanes or not self.quick) else self.quick
        if queue is self.slow and too_late():
            queue = self.quick
            if not queue:
                self.out_of_time = True
        return queue or None


class SendAhead:
    """One round's requests, sent `concurrency` at a time as `generation` gives them; each answer
    judged on its own and memoised, and /health asked after every PROBE_AHEAD_EVERY answers.
    `run()` gives the trouble that stopped it ("" if none); `stopped` says why sending stopped
    before the round's end, if the endpoint's answers would outlast the cap."""

    def __init__(self, generation: Generation, sender: Sender, judge: Judge, memo: Memo, deadline: Deadline,
                 concurrency: int):
        self.sender, self.judge, self.memo, self.deadline = sender, judge, memo, deadline
        self.concurrency = concurrency
        self.queues = _Queues(generation, memo, sender, concurrency)
        self.pending: dict[Future, tuple[bytes, rawhttp.RawRequest]] = {}
        self.unprobed: list[bytes] = []  # answered, waiting for the next /health probe
        self.trouble = ""  # why sending stopped: the container exited, /health changed
        self.stopped = ""

    def run(self) -> str:
        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="fuzz") as pool:
            self._fill(pool)
            while self.pending:
                timeout = _LOOK_FOR_MORE_S if self.queues.more else None
                done, _ = wait(list(self.pending), timeout=timeout, return_when=FIRST_COMPLETED)
                for future in done:
                    key, request = self.pending.pop(future)
                    if not self.trouble:
                        self._judge(key, request, *future.result())
                self._probe_when_due()
                self._fill(pool)
        return self.trouble

    def _stopping(self) -> bool:
        return bool(self.trouble) or self.sender.down or self.deadline.passed()

    def _fill(self, pool: ThreadPoolExecutor) -> None:
        while len(self.pending) < self.concurrency and not self._stopping():
            self.queues.take(block=not self.pending and self.queues.empty())
            slow_in_flight = sum(1 for _, request in self.pending.values() if self.sender.reaches_endpoint(request))
            queue = self.queues.pick(slow_in_flight, self.deadline.too_late_for_the_endpoint)
            if queue is None:
                if self.queues.out_of_time:
                    self.stopped = TOO_LATE_FOR_THE_ENDPOINT
                return
            key, request = queue.popleft()
            self.pending[pool.submit(self._send_timed, request)] = (key, request)

    def _send_timed(self, request: rawhttp.RawRequest):
        started = time.monotonic()
        try:
            return self.sender.send_generated(request, self.judge.whole_streams)
        finally:
            if self.sender.reaches_endpoint(request):
                self.deadline.took(time.monotonic() - started)

    def _judge(self, key: bytes, request: rawhttp.RawRequest, response, error) -> None:
        """Memoise what this answer shows on its own, or note the trouble that stops sending ahead."""
        if error is not None:
            state = self.sender.settled_state(error, self.judge.health_status)
            if not state.get("Running"):
                self.trouble = "the container exited"
                return
            if no_answer_key(error) == TIMED_OUT:
                # No memo: among several requests in flight a timeout may be the load's doing (an
                # agent that serves one at a time), not this request's. The round sends it again, alone.
                return
            self.memo.shown[key] = self.judge.no_answer(error)  # a dropped connection: this request's doing
            self.memo.sent_ahead[key] = request
            return
        failure = self.judge.answer(request, response)
        if failure is not None:
            self.memo.shown[key] = failure
        else:
            self.unprobed.append(key)  # judged once /health is seen unchanged after it
        self.memo.sent_ahead[key] = request

    def _probe_when_due(self) -> None:
        if self.trouble or not self.unprobed or (len(self.unprobed) < PROBE_AHEAD_EVERY and self.pending):
            return
        self.trouble = self.judge.health_changed(self.sender.health())
        if not self.trouble:
            self.memo.passed(self.unprobed)
            self.unprobed.clear()
