"""What an answer to a generated request shows. `broken_property` holds the properties every answer
must keep. A `Judge` weighs an answer, a missing answer and /health afterwards against what the
plain requests already showed (the baseline). A `Memo` keeps what each request showed, by its
bytes. Nothing here sends anything.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from ..wire import mediatype, rawhttp, sse

# A generated request's finding belongs to one of these: framing errors are SSE-FRAMING's.
ROBUST_INPUT = "ROBUST-INPUT"
SSE_FRAMING = "SSE-FRAMING"
SHOWN_BODY = 200  # bytes of a body quoted in the evidence
HEALTH_AFTER_EVERY = 10  # GET /health after every Nth refused request (after every other answer always)
TIMED_OUT = "no answer: timeout"


@dataclass(frozen=True)
class Failure:
    """What one request showed that breaks a property."""

    key: str  # the distinct cause: "status 500", "no answer: timeout", …
    requirement: str  # the ID it belongs to: framing errors are SSE-FRAMING's
    cause: str  # one sentence
    received: tuple[str, ...] = ()  # what came back, for the evidence


def response_lines(response: rawhttp.RawResponse) -> tuple[str, ...]:
    body = response.body[:SHOWN_BODY]
    more = f" … ({len(response.body)} bytes)" if len(response.body) > SHOWN_BODY else ""
    content_type = response.header("content-type") or "no Content-Type"
    return (f"HTTP {response.status} {response.reason} ({content_type}) in {response.elapsed_s * 1000:.0f} ms",
            f"body: {body!r}{more}")


def broken_property(request: rawhttp.RawRequest, response: rawhttp.RawResponse) -> Failure | None:
    """The property the answer breaks (without `received`), else None."""
    if response.status >= 500:
        return Failure(f"status {response.status}", ROBUST_INPUT,
                       f"answered {response.status}: a request must never cause a 5xx")
    if not 200 <= response.status < 300 or request.method in ("HEAD", "OPTIONS") or response.status == 204:
        return None  # preflights and bodiless answers carry no representation to check
    content_type = response.header("content-type")
    if mediatype.is_media_type(content_type, mediatype.JSON):
        try:
            json.loads(response.body)
        except ValueError:
            return Failure("json body", ROBUST_INPUT,
                           "a 2xx declared application/json whose body does not parse as JSON")
        return None
    if mediatype.is_media_type(content_type, mediatype.EVENT_STREAM):
        _, violations = sse.validate(response.body)
        # Cut short after whole blocks: only the end of the stream (its close) is not judged.
        errors = [v for v in violations if v.severity == "error"
                  and not (response.cut_short and v.code == "no-data-event")]
        if errors:
            return Failure("sse framing", SSE_FRAMING,
                           f"the event stream breaks the framing rules: {sse.format_violation(errors[0])}")
        return None
    return Failure(f"media type {mediatype.essence(content_type) or 'none'}", ROBUST_INPUT,
                   f"a 2xx with Content-Type {mediatype.describe(content_type)}: neither JSON nor an event stream")


def no_answer_key(exc: rawhttp.RawHTTPError) -> str:
    return TIMED_OUT if exc.kind in ("timeout", "first-byte-timeout") else f"no answer: {exc.kind}"


class Judge:
    """Judges answers against the baseline: the causes the plain requests already show (the
    checks that send those report them; fuzzing does not again) and /health's status before."""

    def __init__(self, baseline: Iterable[str], health_status: int | None, timeout_s: float):
        self.baseline = frozenset(baseline)
        self.health_status = health_status  # GET /health before any generated request
        self.timeout_s = timeout_s  # the request budget, named in a timeout's sentence
        self.whole_streams = False  # read every event stream to its end (once a framing error is found)

    def answer(self, request: rawhttp.RawRequest, response: rawhttp.RawResponse) -> Failure | None:
        """What the answer shows on its own; None also when it needs /health afterwards to tell."""
        failure = broken_property(request, response)
        if failure is not None and failure.requirement == SSE_FRAMING:
            self.whole_streams = True  # its shrinking then compares whole streams
        if failure is None or failure.key in self.baseline:
            return None
        return replace(failure, received=response_lines(response))

    @staticmethod
    def probe_due(response: rawhttp.RawResponse, sent: int) -> bool:
        """Whether /health is asked after this answer (the `sent`th request). A refusal (3xx/4xx)
        rarely changes an agent's state: after those only now and then, after the rest every time.
        Halves the agent's work on a typical campaign."""
        return not (300 <= response.status < 500 and sent % HEALTH_AFTER_EVERY)

    def health_after(self, status: int | None, received: tuple[str, ...]) -> Failure | None:
        """What /health answering `status` after a request shows (`received`: the request's answer)."""
        if status is None:
            received = received + ("GET /health afterwards: no answer",)
        if status == self.health_status:
            return None  # as before the request (a /health that is not 200 is HEALTH-200's defect)
        return Failure("probe after", ROBUST_INPUT,
                       f"after this request GET /health answered {status or 'nothing'} (before: {self.health_status})",
                       received)

    def health_changed(self, status: int | None) -> str:
        """"" if /health answers as before, else what changed."""
        if status == self.health_status:
            return ""
        return f"GET /health answered {status or 'nothing'} (before: {self.health_status})"

    def no_answer(self, exc: rawhttp.RawHTTPError) -> Failure | None:
        """A request that got no answer while the container runs on."""
        key = no_answer_key(exc)
        if key in self.baseline:
            return None  # the plain request fails so too: reported by the check that sends it
        if key == TIMED_OUT:
            return Failure(key, ROBUST_INPUT, f"no answer within the request budget of {self.timeout_s:g} s",
                           (str(exc),))
        if exc.kind == "incomplete" and "response head" not in str(exc):  # the head came, the body was cut
            return Failure(key, ROBUST_INPUT, "the connection was dropped in the middle of the answer (incomplete): "
                                              "the head came, the body never ended", (str(exc),))
        return Failure(key, ROBUST_INPUT, f"the connection was dropped ({exc.kind}) instead of an answer", (str(exc),))

    @staticmethod
    def exited(exc: rawhttp.RawHTTPError, state: dict, log_tail: Iterable[str]) -> Failure:
        """A request the container exited on (`state`: the container's, `log_tail`: its last lines)."""
        return Failure("container exited", ROBUST_INPUT,
                       f"the container exited (code {state.get('ExitCode')}) on this request",
                       (str(exc), *(f"log | {line}" for line in log_tail)))


@dataclass
class Memo:
    """What each request sent showed, by its bytes: a Failure, or None when it passed. Hypothesis's
    final replay of a minimal example reads it and never re-sends, so a slow or dead candidate
    cannot make it flaky."""

    shown: dict[bytes, Failure | None] = field(default_factory=dict)
    sent_ahead: dict[bytes, rawhttp.RawRequest] = field(default_factory=dict)  # judged while sending ahead

    @staticmethod
    def key(request: rawhttp.RawRequest) -> bytes:
        return request.to_bytes("127.0.0.1")

    def passed(self, keys: Iterable[bytes]) -> None:
        self.shown.update(dict.fromkeys(keys))

    def unreached(self, known: Iterable[str]) -> dict[str, tuple[rawhttp.RawRequest, Failure]]:
        """Causes shown by answers sent ahead that are not `known`, each with the smallest request
        that showed it."""
        known = set(known)
        shown: dict[str, list[rawhttp.RawRequest]] = {}
        for key, request in self.sent_ahead.items():
            failure = self.shown.get(key)
            if failure is not None and failure.key not in known:
                shown.setdefault(failure.key, []).append(request)
        smallest = {cause: min(requests, key=lambda r: len(r.to_bytes("h"))) for cause, requests in shown.items()}
        return {cause: (request, self.shown[self.key(request)]) for cause, request in smallest.items()}
