"""The fuzz campaign behind ROBUST-INPUT: Hypothesis generates wire-valid requests, each is sent raw
to the candidate and judged, and every distinct failure cause is shrunk to a minimal request that
a `curl` command reproduces.

Sending costs real time, so the campaign is bounded twice: by a number of examples, and by a
wall-clock cap after which nothing more is sent (unsent examples count as passing, which also ends
shrinking). Every answer is memoised by the request's bytes: Hypothesis's final replay of a
minimal example never re-sends, so a slow or dead candidate cannot make it flaky.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from ..contract.agent_config import AgentConfig
from ..contract.platform import HEALTH_PATH
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

    def for_requirement(self, requirement: str) -> list[Finding]:
        return [f for f in self.findings.values() if f.requirement == requirement]

    def summary(self) -> str:
        rate = self.sent / self.elapsed_s if self.elapsed_s else 0.0
        seed = f", seed {self.seed}" if self.seed is not None else ""
        stopped = f"; {self.stopped}" if self.stopped else ""
        return (f"{self.examples} generated examples, {self.sent} requests sent in {self.elapsed_s:.1f} s "
                f"({rate:.0f}/s){seed}{stopped}")


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
        errors = [v for v in violations if v.severity == "error"]
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
        self.campaign = Campaign()
        self.down = False
        self.probe = candidate.client_http()
        self.baseline = self._baseline()

    def _baseline(self) -> set[str]:
        """Causes the plain requests already show — the /health status, each endpoint's example in
        JSON and SSE mode. The checks that name them report them; fuzzing does not again."""
        keys = set()
        self.health_status = self._health()
        for endpoint in self.config.endpoints:
            body = endpoint.body_bytes()
            content_type = (("Content-Type", mediatype.JSON),) if body is not None else ()
            for accept in (mediatype.JSON, mediatype.EVENT_STREAM):
                plain = rawhttp.RawRequest(endpoint.method, endpoint.path, (("Accept", accept),) + content_type, body)
                try:
                    response = self._raw(plain)
                except rawhttp.RawHTTPError as exc:
                    keys.add(_no_answer_key(exc))  # a plain request that hangs: another check's defect
                    continue
                verdict = broken_property(plain, response)
                if verdict:
                    keys.add(verdict[0])
        return keys

    def outcome(self, request: rawhttp.RawRequest):
        key = request.to_bytes("127.0.0.1")
        if key in self.memo:
            return self.memo[key]
        if self.down or time.monotonic() > self.cap:
            if not self.campaign.stopped:
                self.campaign.stopped = "stopped sending at the time cap"
            return None  # not sent: counts as passing, which also ends shrinking
        result = self._send(request)
        self.memo[key] = result
        return result

    def _send(self, request: rawhttp.RawRequest):
        self.campaign.sent += 1
        try:
            response = self._raw(request)
        except rawhttp.RawHTTPError as exc:
            return self._no_answer(exc)
        finally:
            if self.progress is not None:
                self.progress(f"fuzzing: {self.campaign.sent} requests sent, {len(self.campaign.findings)} "
                              f"failure cause(s) found, {time.monotonic() - self.started:.0f} s of "
                              f"{self.cap - self.started:.0f} s")
        verdict = broken_property(request, response)
        if verdict and verdict[0] not in self.baseline:
            return (*verdict, _response_lines(response))
        # A refusal (3xx/4xx) rarely changes an agent's state: probe after those only now and then,
        # after everything else every time. Halves the agent's work on a typical campaign.
        if 300 <= response.status < 500 and self.campaign.sent % HEALTH_AFTER_EVERY:
            return None
        return self._probe_after(_response_lines(response))

    def _route(self, request: rawhttp.RawRequest) -> str:
        """The method and the declared path it went to, generated ones grouped (the plots count by it)."""
        path = request.target.split("?")[0]
        method = request.method if request.method in _METHODS else "(other method)"
        return f"{method} {path if path in self.declared else '(other path)'}"

    def _no_answer(self, exc: rawhttp.RawHTTPError):
        state = self.candidate.state()
        if exc.kind in ("reset", "connect-refused", "incomplete", "not-http"):
            # A dying process drops its connections a moment before Docker sees it exit.
            settle_until = time.monotonic() + 1.0
            while state.get("Running") and time.monotonic() < settle_until:
                time.sleep(0.05)
                state = self.candidate.state()
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

    def _raw(self, request: rawhttp.RawRequest) -> rawhttp.RawResponse:
        """Send it and count it (route, status), the baseline's plain requests too."""
        route = self._route(request)
        try:
            response = self._send_raw(request)
        except rawhttp.RawHTTPError:
            self.campaign.tally[(route, "no answer")] += 1
            raise
        self.campaign.tally[(route, response.status)] += 1
        return response

    def _send_raw(self, request: rawhttp.RawRequest) -> rawhttp.RawResponse:
        budgets = self.config.budgets
        total = self.timeout
        accept = ", ".join(v for n, v in request.headers if n.lower() == "accept")
        if mediatype.asks_for_event_stream(accept) and self.candidate.traffic.endless(request.method, request.target):
            # The plain request's stream never ended either (in the baseline): only the head is news.
            total = min(total, KNOWN_ENDLESS_HEAD_S)
        return rawhttp.send(self.host, self.port, request, first_byte_timeout=min(budgets.first_byte_s, total),
                            total_timeout=total, max_header_bytes=budgets.header_bytes,
                            max_body_bytes=budgets.response_bytes)

    def _health(self) -> int | None:
        return exchange.request(self.probe, "GET", HEALTH_PATH, timeout_s=HEALTH_AFTER_TIMEOUT_S).status

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
                 derandomize: bool = False, progress: Callable[[str], None] | None = None) -> Campaign:
    """Fuzz the candidate; returns the findings (one minimal request per distinct cause).

    Hypothesis stops generating once it has a failure to shrink, so the campaign runs in rounds:
    each round treats the causes already found as passing and spends what is left of the budget
    looking for others."""
    sender = _Sender(candidate, config, cap_s, progress)
    findings: dict[str, Finding] = sender.campaign.findings  # filled as found (progress counts them)
    strategy = st.one_of([strategies.requests_for(e.method, e.path, e.json if isinstance(e.json, dict) else None)
                          for e in config.endpoints])
    round_seed = seed
    try:
        while sender.campaign.examples < max_examples and not sender.down and time.monotonic() < sender.cap:
            before = len(findings)
            _round(sender, strategy, findings, max_examples - sender.campaign.examples, round_seed, derandomize)
            if len(findings) == before:
                break  # a whole round found nothing new: the budget is spent
            round_seed = None if seed is None else round_seed + 1
    finally:
        sender.probe.close()
    sender.campaign.findings = findings
    sender.campaign.elapsed_s = time.monotonic() - sender.started
    sender.campaign.seed = seed
    return sender.campaign


def _round(sender: _Sender, strategy, findings: dict[str, Finding], examples: int, seed: int | None,
           derandomize: bool) -> None:
    known = set(findings)

    @settings(max_examples=examples, deadline=None, database=None, derandomize=derandomize and seed is None,
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

    if seed is not None:
        campaign = hypothesis_seed(seed)(campaign)
    try:
        campaign()
    except _Interesting:
        pass
    except BaseExceptionGroup as group:  # several distinct causes: Hypothesis reports them together
        _, unexpected = group.split(_Interesting)
        if unexpected is not None:
            raise unexpected
