"""The fuzz campaign behind ROBUST-INPUT: Hypothesis generates wire-valid requests, each is sent raw
to the candidate and judged, and every distinct failure cause is shrunk to a minimal request that
a `curl` command reproduces.

Sending costs real time, so the campaign is bounded twice: by a number of examples, and by a
wall-clock cap after which nothing more is sent (unsent examples count as passing, which also ends
shrinking). Every answer is memoised by the request's bytes: Hypothesis's final replay of a
minimal example never re-sends, so a slow or dead candidate cannot make it flaky.

An agent that calls a model takes seconds per answer, so the requests are not sent one at a time.
Every round has a seed, and a seeded Hypothesis run generates the same requests whatever the test
does until it first fails; so a round's requests are generated in a thread without sending
anything (`_Generation`), sent `concurrency` at a time as they come (`send_ahead`), then Hypothesis
runs over the memoised answers, which judges and shrinks as before (shrinking sends one request at
a time: exact); a round whose every answer passed is not run again. What an answer shows
on its own (a 5xx, a body that breaks its media type) is known per request; what needs /health
afterwards, or a container that exits with several requests in flight, is not: those requests are
left unjudged and, on a fresh candidate (`respawn`), sent again one at a time.
"""

from __future__ import annotations

import json
import random
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from ..contract.agent_config import AgentConfig
from ..contract import platform
from ..errors import NotChecked
from ..wire import exchange, mediatype, rawhttp, sse
from ..wire.curl import REPRO_PREFIX
from . import strategies

# A generated request's finding belongs to one of these: framing errors are SSE-FRAMING's.
ROBUST_INPUT = "ROBUST-INPUT"
SSE_FRAMING = "SSE-FRAMING"
_SHOWN_BODY = 200
HEALTH_AFTER_TIMEOUT_S = 2.0  # GET /health after a generated request: is the agent still well?
HEALTH_AFTER_EVERY = 10  # after every Nth refused request (after every other answer always)
KNOWN_ENDLESS_HEAD_S = 0.5  # a generated request to a stream known not to end: time for its head
DROP_SETTLE_S = 1.0  # after a dropped connection, Docker sees a dying process exit within this
PROBE_AHEAD_EVERY = 8  # sending ahead: GET /health after this many answers (and at the end)
# A generated request's event stream is read only as far as its judgement needs: the head and its
# first blocks (status, media type, framing so far). A stream in WHOLE_STREAM_EVERY, chosen by the
# request's bytes (so a request is always judged alike), is read to its end for the framing at its
# close; once a framing error is found every stream is read whole, so its shrinking is exact.
STREAM_BLOCKS = 2
WHOLE_STREAM_EVERY = 8


@dataclass(frozen=True)
class Finding:
    key: str  # the distinct cause: "status 500", "no answer: timeout", …
    requirement: str  # the ID it belongs to: framing errors are SSE-FRAMING's
    cause: str  # one sentence
    request: rawhttp.RawRequest
    received: tuple[str, ...]

    def evidence(self) -> list[str]:
        return [self.cause, f"{REPRO_PREFIX}{self.request.curl()}", *(f"received: {line}" for line in self.received)]


@dataclass
class Campaign:
    findings: dict[str, Finding] = field(default_factory=dict)
    examples: int = 0
    sent: int = 0
    elapsed_s: float = 0.0
    seed: int | None = None
    stopped: str = ""  # why sending stopped early, if it did
    tally: Counter = field(default_factory=Counter)  # (route, status or "no answer") → requests sent
    concurrency: int = 1
    replayed: str = ""  # why requests were sent again on a fresh candidate, if they were
    streams_cut: int = 0  # 2xx event streams read to their first blocks only
    streams_whole: int = 0  # … and read to their end

    def for_requirement(self, requirement: str) -> list[Finding]:
        return [f for f in self.findings.values() if f.requirement == requirement]

    def summary(self) -> str:
        rate = self.sent / self.elapsed_s if self.elapsed_s else 0.0
        seed = f", seed {self.seed}" if self.seed is not None else ""
        stopped = f"; {self.stopped}" if self.stopped else ""
        replayed = f"; {self.replayed}" if self.replayed else ""
        streams = ""
        if self.streams_cut:
            streams = (f"; {self.streams_cut} event streams read to their first {STREAM_BLOCKS} blocks, "
                       f"{self.streams_whole} to their end")
        return (f"{self.examples} generated examples, {self.sent} requests sent in {self.elapsed_s:.1f} s "
                f"({rate:.0f}/s, up to {self.concurrency} at once){seed}{stopped}{replayed}{streams}")


def _response_lines(response: rawhttp.RawResponse) -> tuple[str, ...]:
    body = response.body[:_SHOWN_BODY]
    more = f" … ({len(response.body)} bytes)" if len(response.body) > _SHOWN_BODY else ""
    content_type = response.header("content-type") or "no Content-Type"
    return (f"HTTP {response.status} {response.reason} ({content_type}) in {response.elapsed_s * 1000:.0f} ms",
            f"body: {body!r}{more}")


def broken_property(request: rawhttp.RawRequest, response: rawhttp.RawResponse) -> tuple[str, str, str] | None:
    """(key, requirement, cause) when the answer breaks a property, else None."""
    if response.status >= 500:
        return f"status {response.status}", ROBUST_INPUT, f"answered {response.status}: a request must never cause a 5xx"
    if not 200 <= response.status < 300 or request.method in ("HEAD", "OPTIONS") or response.status == 204:
        return None  # preflights and bodiless answers carry no representation to check
    content_type = response.header("content-type")
    if response.truncated:
        return None  # cut at the size cap: what arrived is not all of it (the checks name an oversized answer)
    if mediatype.is_media_type(content_type, mediatype.JSON):
        try:
            json.loads(response.body)
        except ValueError:
            return "json body", ROBUST_INPUT, "a 2xx declared application/json whose body does not parse as JSON"
        return None
    if mediatype.is_media_type(content_type, mediatype.EVENT_STREAM):
        _, violations = sse.validate(response.body)
        # Cut short after whole blocks: only the end of the stream (its close) is not judged.
        errors = [v for v in violations if v.severity == "error"
                  and not (response.cut_short and v.code == "no-data-event")]
        if errors:
            return ("sse framing", SSE_FRAMING,
                    f"the event stream breaks the framing rules: {sse.format_violation(errors[0])}")
        return None
    return (f"media type {mediatype.essence(content_type) or 'none'}", ROBUST_INPUT,
            f"a 2xx with Content-Type {mediatype.describe(content_type)}: neither JSON nor an event stream")


class _Interesting(Exception):
    """Raised for a failing example; one subclass per cause, so Hypothesis shrinks each apart."""


_CLASSES: dict[str, type] = {}


def _failure_class(key: str) -> type:
    if key not in _CLASSES:
        _CLASSES[key] = type(f"Fuzz_{len(_CLASSES)}", (_Interesting,), {})
    return _CLASSES[key]


class _Sender:
    """Sends generated requests to the candidate, memoised by their bytes, within the time cap, and
    judges each answer (and /health after it)."""

    def __init__(self, candidate, config: AgentConfig, cap_s: float, progress: Callable[[str], None] | None = None):
        self.candidate = candidate
        self.progress = progress
        self.declared = {e.path.split("?")[0] for e in config.endpoints}
        self.config = config
        self.host, self.port = candidate.address()
        self.timeout = config.budgets.request_s
        self.started = time.monotonic()
        self.cap = self.started + cap_s
        self.memo: dict[bytes, tuple[str, str, str, tuple[str, ...]] | None] = {}
        self.sent_ahead: dict[bytes, rawhttp.RawRequest] = {}  # what send_ahead judged, for findings no round reached
        self.campaign = Campaign()
        self.down = False
        self.whole_streams = False  # read every event stream to its end (once a framing error is found)
        self.slow_s: list[float] = []  # how long the requests to a declared endpoint took
        self._lock = threading.Lock()  # the tally and the counters: send_ahead's threads share them
        self.probe = candidate.client_http()
        self.baseline = self._baseline()

    def switch(self, candidate) -> None:
        """Go on with a fresh candidate (the first one exited, or a request changed its /health)."""
        self.probe.close()
        self.candidate = candidate
        self.host, self.port = candidate.address()
        self.probe = candidate.client_http()
        self.down = False
        self.health_status = self._health()

    # -- sending ahead, several at once ----------------------------------------------------------
    def send_ahead(self, generation: "_Generation", concurrency: int, respawn=None) -> None:
        """Send the round's requests `concurrency` at a time, as `generation` gives them, and
        memoise what each answer shows on its own.
        Answers judged by /health afterwards are memoised once a probe after them finds /health as
        before. When the container exits, or /health changes, the requests since the last good
        probe stay unjudged: `respawn()` gives a fresh candidate the round then sends them to one
        at a time (exact), else the campaign goes on as it can."""
        more = True  # the generation may still give requests
        queued: set[bytes] = set()
        # Requests to a declared endpoint may take a model's seconds; the rest (other paths and
        # methods, malformed heads) answer at once. The slow ones get half the lanes at most, so
        # the quick ones keep flowing beside them.
        slow: list = []
        quick: list = []
        slow_lanes = max(1, concurrency // 2)
        unprobed: list[bytes] = []  # answered, waiting for the next /health probe
        trouble = ""

        def take(block: bool) -> None:
            """Queue what the generation has given so far (waiting for one more if `block`)."""
            nonlocal more
            while more:
                request = generation.next_ready(block)
                if request is None:
                    return  # nothing new yet
                if request is _END:
                    more = False
                    return
                key = request.to_bytes("127.0.0.1")
                if key not in self.memo and key not in queued:
                    queued.add(key)
                    (slow if self._reaches_endpoint(request) else quick).append((key, request))
                    block = False

        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="fuzz") as pool:
            pending: dict = {}

            def stopping() -> bool:
                return bool(trouble) or self.down or time.monotonic() > self.cap

            def fill() -> None:
                while len(pending) < concurrency and not stopping():
                    take(block=not pending and not slow and not quick)
                    slow_in_flight = sum(1 for _, request in pending.values() if self._reaches_endpoint(request))
                    queue = slow if slow and (slow_in_flight < slow_lanes or not quick) else quick
                    if queue is slow and self.too_late_for_the_endpoint():
                        if not quick:
                            self.campaign.stopped = ("stopped sending to the declared endpoint before the time "
                                                     "cap: its answers take longer than the time left")
                            return
                        queue = quick
                    if not queue:
                        return
                    item = queue.pop(0)
                    pending[pool.submit(self._exchange, item[1])] = item

            fill()
            while pending:
                # While requests are still being generated, look for new ones now and then.
                done, _ = wait(list(pending), timeout=None if not more else 0.02, return_when=FIRST_COMPLETED)
                for future in done:
                    key, request = pending.pop(future)
                    response, error = future.result()
                    if not trouble:
                        trouble = self._judge_ahead(key, request, response, error, unprobed)
                if not trouble and unprobed and (len(unprobed) >= PROBE_AHEAD_EVERY or not pending):
                    status = self._health()
                    if status == self.health_status:
                        self.memo.update(dict.fromkeys(unprobed))
                        unprobed.clear()
                    else:
                        trouble = f"GET /health answered {status or 'nothing'} (before: {self.health_status})"
                fill()
        if time.monotonic() > self.cap and not self.campaign.stopped:
            self.campaign.stopped = "stopped sending at the time cap"
        if trouble:
            self._recover(trouble, respawn)

    def nothing_to_replay(self, requests: list[rawhttp.RawRequest]) -> bool:
        """Whether a round over these requests could find nothing: each answer is memoised and
        passing, or unsent while no more may be sent (those count as passing)."""
        for request in requests:
            key = request.to_bytes("127.0.0.1")
            if self.memo.get(key) is not None or (key not in self.memo and self.may_send(request)):
                return False
        return True

    def may_send(self, request: rawhttp.RawRequest) -> bool:
        return not (self.down or time.monotonic() > self.cap
                    or (self._reaches_endpoint(request) and self.too_late_for_the_endpoint()))

    def _judge_ahead(self, key: bytes, request: rawhttp.RawRequest, response, error, unprobed: list[bytes]) -> str:
        """Memoise what this answer shows on its own; "" or the trouble that stops sending ahead."""
        if error is not None:
            state = self._settled_state(error)
            if not state.get("Running"):
                return "the container exited"
            if _no_answer_key(error) == _TIMED_OUT:
                # No memo: among several requests in flight a timeout may be the load's doing (an
                # agent that serves one at a time), not this request's. The round sends it again, alone.
                return ""
            self.memo[key] = self._no_answer(error, state)  # a dropped connection: this request's doing
            self.sent_ahead[key] = request
            return ""
        verdict = self._verdict(request, response)
        if verdict and verdict[0] not in self.baseline:
            self.memo[key] = (*verdict, _response_lines(response))
        else:
            unprobed.append(key)  # judged once /health is seen unchanged after it
        self.sent_ahead[key] = request
        return ""

    def _exchange(self, request: rawhttp.RawRequest):
        with self._lock:
            self.campaign.sent += 1
        started = time.monotonic()
        try:
            return self._raw(request), None
        except rawhttp.RawHTTPError as exc:
            return None, exc
        finally:
            if self._reaches_endpoint(request):
                with self._lock:
                    self.slow_s.append(time.monotonic() - started)
            self._report_progress()

    def too_late_for_the_endpoint(self) -> bool:
        """Whether a request to a declared endpoint, taking as long as the longest one so far (a
        model's answer, not the quick refusals), would still be in flight at the cap: its lane is
        better left to quick requests, or idle."""
        with self._lock:
            longest = max(self.slow_s, default=0.0)
        return time.monotonic() + longest > self.cap

    def _settled_state(self, error: rawhttp.RawHTTPError) -> dict:
        """The container's state after a request got no answer. A dying process drops its
        connections a moment before Docker sees it exit, hence the wait after a drop, unless
        /health answers at once as before: the process lives on (a panic contained to one
        connection), and shrinking such a cause does not cost a wait per request."""
        if error.kind in ("reset", "connect-refused", "incomplete", "not-http"):
            if self.health_status is not None and self._health() == self.health_status:
                return self.candidate.state()
            state = self.candidate.state()
            settle_until = time.monotonic() + DROP_SETTLE_S
            while state.get("Running") and time.monotonic() < settle_until:
                time.sleep(0.05)
                state = self.candidate.state()
            return state
        return self.candidate.state()

    def _recover(self, trouble: str, respawn) -> None:
        if respawn is None:
            self.down = not self.candidate.state().get("Running")
            return
        try:
            self.switch(respawn())
        except NotChecked as exc:
            self.down = True
            self.campaign.stopped = f"{trouble} with several requests in flight; no fresh candidate to find which: {exc}"
            return
        self.campaign.replayed = (f"{trouble} with several requests in flight: those were sent again, one at a time, "
                                  "to a fresh candidate")

    def _report_progress(self) -> None:
        if self.progress is not None:
            self.progress(f"fuzzing: {self.campaign.sent} requests sent ({self.campaign.concurrency} at once), "
                          f"{len(self.campaign.findings)} failure cause(s) found, "
                          f"{time.monotonic() - self.started:.0f} s of {self.cap - self.started:.0f} s")

    def _baseline(self) -> set[str]:
        """Causes the plain requests already show — the /health status, each endpoint's example in
        JSON and SSE mode, sent together and read whole. The checks that name them report them;
        fuzzing does not again."""
        self.health_status = self._health()
        plain = []
        for endpoint in self.config.endpoints:
            body = endpoint.body_bytes()
            content_type = (("Content-Type", mediatype.JSON),) if body is not None else ()
            for accept in (mediatype.JSON, mediatype.EVENT_STREAM):
                plain.append(rawhttp.RawRequest(endpoint.method, endpoint.path, (("Accept", accept),) + content_type,
                                                body))

        def cause(request: rawhttp.RawRequest) -> str | None:
            try:
                response = self._raw(request, whole=True)
            except rawhttp.RawHTTPError as exc:
                return _no_answer_key(exc)  # a plain request that hangs: another check's defect
            verdict = broken_property(request, response)
            return verdict[0] if verdict else None

        with ThreadPoolExecutor(max_workers=max(1, len(plain)), thread_name_prefix="fuzz-baseline") as pool:
            return {key for key in pool.map(cause, plain) if key is not None}

    def outcome(self, request: rawhttp.RawRequest):
        key = request.to_bytes("127.0.0.1")
        if key in self.memo:
            return self.memo[key]
        if not self.may_send(request):
            if not self.campaign.stopped:
                self.campaign.stopped = "stopped sending at the time cap"
            return None  # not sent: counts as passing, which also ends shrinking
        result = self._send(request)
        self.memo[key] = result
        return result

    def _send(self, request: rawhttp.RawRequest):
        with self._lock:
            self.campaign.sent += 1
        try:
            response = self._raw(request)
        except rawhttp.RawHTTPError as exc:
            return self._no_answer(exc)
        finally:
            self._report_progress()
        verdict = self._verdict(request, response)
        if verdict and verdict[0] not in self.baseline:
            return (*verdict, _response_lines(response))
        # A refusal (3xx/4xx) rarely changes an agent's state: probe after those only now and then,
        # after everything else every time. Halves the agent's work on a typical campaign.
        if 300 <= response.status < 500 and self.campaign.sent % HEALTH_AFTER_EVERY:
            return None
        return self._probe_after(_response_lines(response))

    def _verdict(self, request: rawhttp.RawRequest, response: rawhttp.RawResponse):
        verdict = broken_property(request, response)
        if verdict and verdict[1] == SSE_FRAMING:
            self.whole_streams = True  # its shrinking then compares whole streams
        return verdict

    def _reaches_endpoint(self, request: rawhttp.RawRequest) -> bool:
        return request.target.split("?")[0] in self.declared

    def _route(self, request: rawhttp.RawRequest) -> str:
        """The method and the declared path it went to, generated ones grouped (the plots count by it)."""
        method = request.method if request.method in _METHODS else "(other method)"
        return f"{method} {request.target.split('?')[0] if self._reaches_endpoint(request) else '(other path)'}"

    def _no_answer(self, exc: rawhttp.RawHTTPError, state: dict | None = None):
        """The finding of a request that got no answer; `state`: the container's, if already read."""
        state = state or self._settled_state(exc)
        if not state.get("Running"):
            self.down = True
            self.campaign.stopped = "the container exited"
            tail = self.candidate.log_tail(10)
            return ("container exited", ROBUST_INPUT,
                    f"the container exited (code {state.get('ExitCode')}) on this request",
                    (str(exc), *(f"log | {line}" for line in tail)))
        key = _no_answer_key(exc)
        if key in self.baseline:
            return None  # the plain request fails so too: reported by the check that sends it
        if key == _TIMED_OUT:
            return (key, ROBUST_INPUT, f"no answer within the request budget of {self.timeout:g} s", (str(exc),))
        return (key, ROBUST_INPUT, f"the connection was dropped ({exc.kind}) instead of an answer", (str(exc),))

    def _raw(self, request: rawhttp.RawRequest, whole: bool = False) -> rawhttp.RawResponse:
        """Send it and count it (route, status), the baseline's plain requests too. `whole`: an
        event stream is read to its end, whatever the sample says."""
        route = self._route(request)
        try:
            response = self._send_raw(request, whole)
        except rawhttp.RawHTTPError:
            with self._lock:
                self.campaign.tally[(route, "no answer")] += 1
            raise
        with self._lock:
            self.campaign.tally[(route, response.status)] += 1
            if 200 <= response.status < 300 and mediatype.is_media_type(response.header("content-type"),
                                                                        mediatype.EVENT_STREAM):
                if response.cut_short:
                    self.campaign.streams_cut += 1
                else:
                    self.campaign.streams_whole += 1
        return response

    def _send_raw(self, request: rawhttp.RawRequest, whole: bool = False) -> rawhttp.RawResponse:
        budgets = self.config.budgets
        total = self.timeout
        accept = ", ".join(v for n, v in request.headers if n.lower() == "accept")
        if mediatype.asks_for_event_stream(accept) and self.candidate.traffic.endless(request.method, request.target):
            # The plain request's stream never ended either (in the baseline): only the head is news.
            total = min(total, KNOWN_ENDLESS_HEAD_S)
        blocks = None if whole or self.whole_streams or self._whole_stream(request) else STREAM_BLOCKS
        return rawhttp.send(self.host, self.port, request, first_byte_timeout=min(budgets.first_byte_s, total),
                            total_timeout=total, max_header_bytes=budgets.header_bytes,
                            max_body_bytes=budgets.response_bytes, stream_blocks=blocks)

    @staticmethod
    def _whole_stream(request: rawhttp.RawRequest) -> bool:
        return zlib.crc32(request.to_bytes("h")) % WHOLE_STREAM_EVERY == 0

    def _health(self) -> int | None:
        return exchange.request(self.probe, "GET", platform.health_path(), timeout_s=HEALTH_AFTER_TIMEOUT_S).status

    def _probe_after(self, received: tuple[str, ...]):
        status = self._health()
        if status is None:
            received = received + ("GET /health afterwards: no answer",)
        if status == self.health_status:
            return None  # as before the request (a /health that is not 200 is HEALTH-200's defect)
        return ("probe after", ROBUST_INPUT,
                f"after this request GET /health answered {status or 'nothing'} (before: {self.health_status})", received)


_TIMED_OUT = "no answer: timeout"
_METHODS = {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}


def _no_answer_key(exc: rawhttp.RawHTTPError) -> str:
    return _TIMED_OUT if exc.kind in ("timeout", "first-byte-timeout") else f"no answer: {exc.kind}"


def run_campaign(candidate, config: AgentConfig, *, max_examples: int, seed: int | None, cap_s: float,
                 derandomize: bool = False, progress: Callable[[str], None] | None = None,
                 concurrency: int = 1, respawn: Callable[[], object] | None = None) -> Campaign:
    """Fuzz the candidate; returns the findings (one minimal request per distinct cause).

    Hypothesis stops generating once it has a failure to shrink, so the campaign runs in rounds:
    each round treats the causes already found as passing and spends what is left of the budget
    looking for others. Every round is seeded (from `seed`; without one, a random seed, or 0 when
    `derandomize`), and with `concurrency` > 1 its requests are sent ahead, several at once.
    `respawn()` starts a fresh candidate (see `_Sender.send_ahead`)."""
    strategy = st.one_of([strategies.requests_for(e.method, e.path, e.json if isinstance(e.json, dict) else None)
                          for e in config.endpoints])
    first_seed = seed if seed is not None else 0 if derandomize else random.getrandbits(32)
    round_seed = first_seed
    # The first round's requests are generated while the baseline's plain requests are answered.
    ahead = _Generation(strategy, max_examples, first_seed) if concurrency > 1 else None
    try:
        sender = _Sender(candidate, config, cap_s, progress)
    except BaseException:
        if ahead is not None:
            ahead.finish()
        raise
    sender.campaign.concurrency = concurrency
    findings: dict[str, Finding] = sender.campaign.findings  # filled as found (progress counts them)
    try:
        while sender.campaign.examples < max_examples and not sender.down and time.monotonic() < sender.cap:
            before = len(findings)
            remaining = max_examples - sender.campaign.examples
            if concurrency > 1:
                generation, ahead = ahead or _Generation(strategy, remaining, round_seed), None
                try:
                    sender.send_ahead(generation, concurrency, respawn)
                finally:
                    generation.finish()
                if sender.nothing_to_replay(generation.requests):
                    # The round would generate these same requests and replay their answers, all
                    # passing: its CPU is saved (about as much as the generation's).
                    sender.campaign.examples += len(generation.requests)
                    break
            _round(sender, strategy, findings, remaining, round_seed)
            if len(findings) == before:
                break  # a whole round found nothing new: the budget is spent
            round_seed += 1
        _unreached(sender, findings)
    finally:
        if ahead is not None:  # the loop never ran (the baseline left nothing to send)
            ahead.finish()
        sender.probe.close()
    sender.campaign.elapsed_s = time.monotonic() - sender.started
    sender.campaign.seed = first_seed
    return sender.campaign


def _generate(strategy, examples: int, seed: int, sink: Callable[[rawhttp.RawRequest], None]) -> None:
    """Give `sink` the requests a round with this seed will generate, without sending any (CPU only)."""

    @hypothesis_seed(seed)
    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck),
              verbosity=Verbosity.quiet, phases=(Phase.generate,), print_blob=False)
    @given(strategy)
    def collect(request):
        sink(request)

    collect()


_END = object()  # the generation has given every request


class _Stopped(Exception):
    """Raised into the generation when nobody will send what it makes any more."""


class _Generation:
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

    def _run(self, strategy, examples: int, seed: int) -> None:
        try:
            _generate(strategy, examples, seed, self._add)
            self.complete = True
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
        """The next request; None if there is none yet (and not `block`); `_END` after the last."""
        with self._cond:
            while self._given >= len(self.requests) and not self._done:
                if not block:
                    return None
                self._cond.wait(0.5)
            if self._given < len(self.requests):
                self._given += 1
                return self.requests[self._given - 1]
            return _END

    def finish(self, timeout_s: float = 10.0) -> None:
        """Stop generating and wait for the thread; raise what the generation met, if anything."""
        with self._cond:
            self._stopped = True
        self._thread.join(timeout_s)
        if self.error is not None:
            raise self.error


def _unreached(sender: _Sender, findings: dict[str, Finding]) -> None:
    """Causes an answer sent ahead showed that no round reached (a round ends at its first
    failure): reported with the smallest request that showed them, not shrunk."""
    shown: dict[str, list[rawhttp.RawRequest]] = {}
    for key, request in sender.sent_ahead.items():
        result = sender.memo.get(key)
        if result is not None and result[0] not in findings:
            shown.setdefault(result[0], []).append(request)
    for cause, requests in shown.items():
        smallest = min(requests, key=lambda r: len(r.to_bytes("h")))
        _, requirement, sentence, received = sender.memo[smallest.to_bytes("127.0.0.1")]
        findings[cause] = Finding(cause, requirement, sentence, smallest, received)


def _round(sender: _Sender, strategy, findings: dict[str, Finding], examples: int, seed: int) -> None:
    known = set(findings)

    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck), report_multiple_bugs=True, verbosity=Verbosity.quiet,
              phases=(Phase.generate, Phase.shrink), print_blob=False)
    @given(strategy)
    def campaign(request):
        sender.campaign.examples += 1
        result = sender.outcome(request)
        if result is None or result[0] in known:
            return
        key, requirement, cause, received = result
        found = Finding(key, requirement, cause, request, received)
        previous = findings.get(key)
        # Keep the smallest request seen per cause: what the shrinker converges on.
        if previous is None or len(request.to_bytes("h")) < len(previous.request.to_bytes("h")):
            findings[key] = found
        raise _failure_class(key)(cause)

    campaign = hypothesis_seed(seed)(campaign)
    try:
        campaign()
    except _Interesting:
        pass
    except BaseExceptionGroup as group:  # several distinct causes: Hypothesis reports them together
        _, unexpected = group.split(_Interesting)
        if unexpected is not None:
            raise unexpected
