"""The fuzz campaign behind ROBUST-INPUT: Hypothesis generates wire-valid requests, each is sent raw
to the candidate and judged, and every distinct failure cause is shrunk to a minimal request that
a `curl` command reproduces.

Sending costs real time, so the campaign is bounded twice: by a number of examples, and by a
wall-clock cap after which nothing more is sent (unsent examples count as passing, which also ends
shrinking). Every answer is memoised by the request's bytes (`judging.Memo`).

The campaign runs in rounds, each with a seed. With `concurrency` > 1 a round's requests are
generated in a thread without sending anything (`generation`), sent several at a time as they come
(`scheduling.SendAhead`), then Hypothesis runs over the memoised answers, which judges and shrinks
as before (shrinking sends one request at a time: exact); a round whose every answer passed is not
run again. Requests left unjudged because the container exited, or /health changed, with several in
flight are sent again one at a time, on a fresh candidate (`respawn`) when there is one.

The parts: `strategies` and `generation` (what is sent), `sending` (how it reaches the candidate),
`judging` (what an answer shows), `scheduling` (when requests go out), and this module, which runs
the rounds and keeps the findings.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed

from ..contract.agent_config import AgentConfig, Budgets, Endpoint
from ..errors import NotChecked
from ..wire import mediatype, rawhttp
from ..wire.curl import REPRO_PREFIX
from . import hazards
from .generation import Fixed, Generation, choose_seed, same_everywhere, strategy_for
from .pregenerated import Pregenerated
from .judging import ROBUST_INPUT, SSE_FRAMING, Failure, Judge, Memo, broken_property, no_answer_key, response_lines
from .scheduling import Deadline, SendAhead
from .sending import STREAM_BLOCKS, Sender

__all__ = ["ROBUST_INPUT", "SSE_FRAMING", "Campaign", "Finding", "broken_property", "run_campaign"]

AT_THE_CAP = "stopped sending at the time cap"


@dataclass(frozen=True)
class Finding:
    key: str  # the distinct cause: "status 500", "no answer: timeout", …
    requirement: str  # the ID it belongs to: framing errors are SSE-FRAMING's
    cause: str  # one sentence
    request: rawhttp.RawRequest
    received: tuple[str, ...]

    @classmethod
    def of(cls, failure: Failure, request: rawhttp.RawRequest) -> "Finding":
        return cls(failure.key, failure.requirement, failure.cause, request, failure.received)

    def evidence(self, user_url: str | None = None) -> list[str]:
        """`user_url`: where the reproduction reaches the agent (the platform's port)."""
        return [self.cause, f"{REPRO_PREFIX}{self.request.curl(user_url)}",
                *(f"received: {line}" for line in self.received)]


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
    fixed: int = 0  # the fixed requests (`hazards`) sent before the generated ones

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
        fixed = f"{self.fixed} fixed requests and " if self.fixed else ""
        return (f"{fixed}{self.examples} generated examples, {self.sent} requests sent in {self.elapsed_s:.1f} s "
                f"({rate:.0f}/s, up to {self.concurrency} at once){seed}{stopped}{replayed}{streams}")


class _Fuzzer:
    """The campaign's parts, shared by its rounds: what each request showed (`memo`), sent one at a
    time (`outcome`, for Hypothesis) or ahead of a round, several at once (`send_ahead`)."""

    def __init__(self, sender: Sender, judge: Judge, deadline: Deadline, campaign: Campaign):
        self.sender, self.judge, self.deadline, self.campaign = sender, judge, deadline, campaign
        self.memo = Memo()

    def outcome(self, request: rawhttp.RawRequest) -> Failure | None:
        key = Memo.key(request)
        if key in self.memo.shown:
            return self.memo.shown[key]
        if not self.may_send(request):
            if not self.campaign.stopped:
                self.campaign.stopped = AT_THE_CAP
            return None  # not sent: counts as passing, which also ends shrinking
        failure = self._send(request)
        self.memo.shown[key] = failure
        return failure

    def _send(self, request: rawhttp.RawRequest) -> Failure | None:
        response, error = self.sender.send_generated(request, self.judge.whole_streams)
        if error is not None:
            return self._no_answer(error)
        failure = self.judge.answer(request, response)
        if failure is not None or not self.judge.probe_due(response, self.campaign.sent):
            return failure
        return self._probe_after(response_lines(response))

    def _probe_after(self, received: tuple[str, ...]) -> Failure | None:
        return self.judge.health_after(self.sender.health(), received)

    def _no_answer(self, error: rawhttp.RawHTTPError) -> Failure | None:
        state = self.sender.settled_state(error, self.judge.health_status)
        if state.get("Running"):
            return self.judge.no_answer(error)
        self.sender.down = True
        self.campaign.stopped = "the container exited"
        return Judge.exited(error, state, self.sender.log_tail())

    def may_send(self, request: rawhttp.RawRequest) -> bool:
        return not (self.sender.down or self.deadline.passed()
                    or (self.sender.reaches_endpoint(request) and self.deadline.too_late_for_the_endpoint()))

    def nothing_to_replay(self, requests: Iterable[rawhttp.RawRequest]) -> bool:
        """Whether a round over these requests could find nothing: each answer is memoised and
        passing, or unsent while no more may be sent (those count as passing)."""
        for request in requests:
            key = Memo.key(request)
            if self.memo.shown.get(key) is not None or (key not in self.memo.shown and self.may_send(request)):
                return False
        return True

    def send_ahead(self, generation: Generation, concurrency: int, respawn: Callable[[], object] | None) -> None:
        """Send the round's requests ahead (`SendAhead`). When the container exits, or /health
        changes, `respawn()` gives a fresh candidate the round then sends the unjudged requests to
        one at a time (exact), else the campaign goes on as it can."""
        ahead = SendAhead(generation, self.sender, self.judge, self.memo, self.deadline, concurrency)
        trouble = ahead.run()
        if ahead.stopped:
            self.campaign.stopped = ahead.stopped
        if self.deadline.passed() and not self.campaign.stopped:
            self.campaign.stopped = AT_THE_CAP
        if trouble:
            self._recover(trouble, respawn)

    def _recover(self, trouble: str, respawn: Callable[[], object] | None) -> None:
        if respawn is None:
            self.sender.down = not self.sender.state().get("Running")
            if self.sender.down:
                self.campaign.stopped = f"{trouble} with several requests in flight; no fresh candidate to find which"
            return
        try:
            self.sender.switch(respawn())
            self.judge.health_status = self.sender.health()
        except NotChecked as exc:
            self.sender.down = True
            self.campaign.stopped = f"{trouble} with several requests in flight; no fresh candidate to find which: {exc}"
            return
        self.campaign.replayed = (f"{trouble} with several requests in flight: those were sent again, one at a time, "
                                  "to a fresh candidate")

    def send_fixed(self, requests: list[rawhttp.RawRequest], concurrency: int,
                   respawn: Callable[[], object] | None) -> None:
        """The fixed requests (`hazards`): sent ahead, the rest (timeouts among several in flight)
        one at a time; each cause they show is a finding, with the smallest request that showed it,
        and the rounds look for other causes."""
        if concurrency > 1:
            self.send_ahead(Fixed(requests), concurrency, respawn)
        shown: dict[str, tuple[rawhttp.RawRequest, Failure]] = {}
        for request in requests:
            failure = self.outcome(request)  # memoised when sent ahead: not sent again
            self.campaign.fixed += Memo.key(request) in self.memo.shown
            if failure is not None and (failure.key not in shown
                                        or len(request.to_bytes("h")) < len(shown[failure.key][0].to_bytes("h"))):
                shown[failure.key] = (request, failure)
        for cause, (request, failure) in shown.items():
            self.campaign.findings.setdefault(cause, Finding.of(failure, request))

    def unreached(self) -> None:
        """Causes an answer sent ahead showed that no round reached (a round ends at its first
        failure): reported with the smallest request that showed them, not shrunk."""
        for cause, (request, failure) in self.memo.unreached(self.campaign.findings).items():
            self.campaign.findings[cause] = Finding.of(failure, request)


def run_campaign(candidate, config: AgentConfig, *, budgets: Budgets, health_path: str, max_examples: int,
                 seed: int | None, cap_s: float, derandomize: bool = False,
                 progress: Callable[[str], None] | None = None, concurrency: int = 1,
                 respawn: Callable[[], object] | None = None, pregenerated: Pregenerated | None = None) -> Campaign:
    """Fuzz the candidate; returns the findings (one minimal request per distinct cause).

    `budgets` bound each request (scaled where the candidate runs under emulation); `health_path`
    is the liveness probe's, asked after requests. Hypothesis stops generating once it has a
    failure to shrink, so the campaign runs in rounds: each round treats the causes already found
    as passing and spends what is left of the budget looking for others. Every round is seeded
    (from `seed`; without one, a random seed, or 0 when `derandomize`), and with `concurrency` > 1
    its requests are sent ahead, several at once. `respawn()` starts a fresh candidate (see
    `_Fuzzer.send_ahead`). `pregenerated`: the first round's requests, already under way in a
    child process (`pregenerated`); used if made for this seed and these endpoints."""
    strategy = strategy_for(config.endpoints)
    first_seed = choose_seed(seed, derandomize)
    campaign = Campaign(concurrency=concurrency, seed=first_seed)
    usable = (pregenerated is not None and concurrency > 1
              and pregenerated.matches(config.endpoints, max_examples, first_seed))
    if pregenerated is not None and not usable:
        pregenerated.finish()
    # The first round's requests are generated while the baseline's plain requests are answered.
    ahead = pregenerated if usable else Generation(strategy, max_examples, first_seed) if concurrency > 1 else None
    deadline = Deadline(cap_s)
    try:
        fuzzer = _start(candidate, config.endpoints, budgets, health_path, deadline, campaign, progress)
    except BaseException:
        if ahead is not None:
            ahead.finish()
        raise
    try:
        fuzzer.send_fixed(hazards.for_endpoints(config.endpoints), concurrency, respawn)
    except BaseException:
        if ahead is not None:
            ahead.finish()
        raise
    _rounds(fuzzer, strategy, max_examples, first_seed, concurrency, respawn, ahead)
    fuzzer.unreached()
    campaign.elapsed_s = deadline.elapsed_s()
    return campaign


def _start(candidate, endpoints: tuple[Endpoint, ...], budgets: Budgets, health_path: str, deadline: Deadline,
           campaign: Campaign, progress: Callable[[str], None] | None) -> _Fuzzer:
    """The campaign's parts, once the plain requests have given the baseline."""

    def on_sent() -> None:
        if progress is not None:
            progress(f"fuzzing: {campaign.sent} requests sent ({campaign.concurrency} at once), "
                     f"{len(campaign.findings)} failure cause(s) found, "
                     f"{deadline.elapsed_s():.0f} s of {deadline.cap_s:.0f} s")

    sender = Sender(candidate, budgets, health_path, (e.path for e in endpoints), campaign, on_sent)
    health_status = sender.health()
    judge = Judge(_baseline(sender, endpoints), health_status, budgets.request_s)
    return _Fuzzer(sender, judge, deadline, campaign)


def _baseline(sender: Sender, endpoints: Iterable[Endpoint]) -> set[str]:
    """Causes the plain requests already show — each endpoint's example in JSON and SSE mode, sent
    together and read whole. The checks that name them report them; fuzzing does not again."""
    plain = []
    for endpoint in endpoints:
        body = endpoint.body_bytes()
        content_type = (("Content-Type", mediatype.JSON),) if body is not None else ()
        for accept in (mediatype.JSON, mediatype.EVENT_STREAM):
            plain.append(rawhttp.RawRequest(endpoint.method, endpoint.path, (("Accept", accept),) + content_type, body))

    def cause(request: rawhttp.RawRequest) -> str | None:
        try:
            response = sender.send(request, whole=True)
        except rawhttp.RawHTTPError as exc:
            return no_answer_key(exc)  # a plain request that hangs: another check's defect
        failure = broken_property(request, response)
        return failure.key if failure else None

    with ThreadPoolExecutor(max_workers=max(1, len(plain)), thread_name_prefix="fuzz-baseline") as pool:
        return {key for key in pool.map(cause, plain) if key is not None}


def _rounds(fuzzer: _Fuzzer, strategy, max_examples: int, seed: int, concurrency: int,
            respawn: Callable[[], object] | None, ahead: Generation | None) -> None:
    """Run rounds until the examples or the time are spent, or a round finds nothing new. `ahead`:
    the first round's generation, already under way."""
    campaign, findings, causes = fuzzer.campaign, fuzzer.campaign.findings, _Causes()
    try:
        while campaign.examples < max_examples and not fuzzer.sender.down and not fuzzer.deadline.passed():
            before = len(findings)
            remaining = max_examples - campaign.examples
            if concurrency > 1:
                generation, ahead = ahead or Generation(strategy, remaining, seed), None
                try:
                    fuzzer.send_ahead(generation, concurrency, respawn)
                finally:
                    generation.finish()
                if not generation.failed and fuzzer.nothing_to_replay(generation.requests):
                    # The round would generate these same requests and replay their answers, all
                    # passing: its CPU is saved (about as much as the generation's).
                    campaign.examples += len(generation.requests)
                    return
            _round(fuzzer, strategy, causes, remaining, seed)
            if len(findings) == before:
                return  # a whole round found nothing new: the budget is spent
            seed += 1
    finally:
        if ahead is not None:  # the loop never ran (the baseline left nothing to send)
            ahead.finish()


class _Interesting(Exception):
    """Raised for a failing example; one subclass per cause, so Hypothesis shrinks each apart."""


class _Causes:
    """One exception class per distinct cause, for one campaign."""

    def __init__(self):
        self._classes: dict[str, type[_Interesting]] = {}

    def exception(self, key: str) -> type[_Interesting]:
        if key not in self._classes:
            self._classes[key] = type(f"Fuzz_{len(self._classes)}", (_Interesting,), {})
        return self._classes[key]


def _round(fuzzer: _Fuzzer, strategy, causes: _Causes, examples: int, seed: int) -> None:
    same_everywhere()  # as the generation ahead did: the same requests, replayed from the memo
    findings = fuzzer.campaign.findings
    known = set(findings)

    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck), report_multiple_bugs=True, verbosity=Verbosity.quiet,
              phases=(Phase.generate, Phase.shrink), print_blob=False)
    @given(strategy)
    def campaign(request):
        fuzzer.campaign.examples += 1
        failure = fuzzer.outcome(request)
        if failure is None or failure.key in known:
            return
        previous = findings.get(failure.key)
        # Keep the smallest request seen per cause: what the shrinker converges on.
        if previous is None or len(request.to_bytes("h")) < len(previous.request.to_bytes("h")):
            findings[failure.key] = Finding.of(failure, request)
        raise causes.exception(failure.key)(failure.cause)

    campaign = hypothesis_seed(seed)(campaign)
    try:
        campaign()
    except _Interesting:
        pass
    except BaseExceptionGroup as group:  # several distinct causes: Hypothesis reports them together
        _, unexpected = group.split(_Interesting)
        if unexpected is not None:
            raise unexpected
