"""The shared candidate and the trials around it, for one pytest session (one per xdist worker).

`adopt(shared)`, once the platform's candidate has been waited on: its first answers are taken
(the probes and every endpoint in both modes: what READONLY-ROOTFS judges and STATELESS-RESTART
compares with). When it fails — it exits before ready, or answers with a 5xx or not at all — the
constraints are relaxed one at a time, in parallel (writable root; no reserved variables), to find
the one that breaks it (`diagnosis`). If one does, the other checks get a stand-in that serves, and say so,
rather than a wall of errors. Then the trials the selected lifecycle checks need (the catalogue says
which: writable root and `docker diff`; a fresh container stopped with SIGTERM mid-stream and
started again) start together in threads, so they cost about the longest of them, and overlap
the rest of the suite.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_all

from ..candidate.container import Candidate, CandidateFactory, Constraints
from ..candidate.readiness import Startup, StartupState
from ..contract.agent_config import AgentConfig
from ..contract.catalogue import startup_owner, trials_for
from ..errors import NotChecked, see
from ..progress import Progress
from ..wire import modes
from . import diagnosis, scenarios
from .turns import Turns
from .variants import CRITICAL_POLL_S, DESCRIPTIONS, LOG_LINES, POLL_S, VARIANTS, Trial, conduct

# A writable trial's weight (Docker's default 1024): it yields to the boots on the run's longest path.
GIVES_WAY_SHARES = 512
# How long a container waits for those of the turn before its own to be started (`turns`); a backstop.
ENGINE_TURN_S = 10.0
RESULT_WAIT_S = 600.0  # a backstop only: each trial is bounded by its own budgets well below
CLOSE_WAIT_S = 30.0

# What a requirement's checks may need (`Requirement.trials` in the catalogue): the shared
# candidate's own exercise, the diagnosis of a failing start, its state at the start for the watch,
# and candidates of their own: on a writable root, and restarted (stopped mid-stream, started again). The
# diagnosis makes its own, without the reserved variables among them.
TRIALS = frozenset({"exercise", "diagnosis", "baseline", "writable", "restart"})


class SessionTrials:
    """The shared candidate, the trials around it and every container they made (`close` removes them).

    `selected`: the requirement IDs this session checks; what they need is started, nothing more."""

    def __init__(self, factory: CandidateFactory, config: AgentConfig, selected: set[str],
                 prefetch: bool | None = None, progress=None):
        self.factory, self.config = factory, config
        self.progress: Progress | None = progress  # told what the checks wait for (the terminal's line)
        self.selected = selected
        self.needed = trials_for(selected)
        # Under xdist a worker may run none of the lifecycle checks: it starts their trials only when
        # the first one of them comes (`start_background`), not as soon as the candidate is ready.
        self.prefetch = "PYTEST_XDIST_WORKER" not in os.environ if prefetch is None else prefetch
        self.trials: dict[str, Trial] = {}
        self.candidate: Candidate | None = None  # what the checks use: the shared one or a stand-in
        self.stand_in: Trial | None = None
        self.culprit: str | None = None  # the ID whose constraint breaks the platform's candidate
        self.baseline: scenarios.Baseline | None = None
        self._made: list[Candidate] = []
        self._futures: dict[str, Future] = {}
        self._current: dict[str, object] = {}  # key → the token of the task whose trial counts
        self._early: tuple[str, ...] = ()  # the trials started beside the platform's candidate
        self._lock = threading.Lock()
        self.turns = Turns()  # the order the containers are started in (`start_early`)
        self._closed = False
        self._pool = ThreadPoolExecutor(max_workers=6, thread_name_prefix="agent-conformance-trial")

    # -- the shared candidate --------------------------------------------------------------------
    def start_early(self) -> None:
        """Before the platform's candidate is started: the trials the lifecycle checks need if it
        serves as it should, started now so that they overlap its start-up instead of following
        it (when prefetching). `adopt` keeps them if it serves, hands the writable one to the
        diagnosis if it fails, and drops the rest. The containers are started in turns (`turns`,
        `_turn_order`): the platform's (`shared_turn`) with the restart trial's, whose chain (boot,
        SIGTERM, start, boot) is the run's longest path, then the writable one."""
        if not self.prefetch:
            return
        self._early = tuple(self._wanted())
        self.turns = Turns(_turn_order(self._early), wait_s=ENGINE_TURN_S)
        for key in self._early:
            self._ensure(key, keep=key in diagnosis.STAND_IN_ORDER, in_background=True)

    def shared_turn(self) -> None:
        """Wait (bounded) until the containers of the turns before the platform's are started."""
        self.turns.wait("platform")

    def shared_started(self) -> None:
        self.turns.done("platform")

    def _settle_early(self, platform: Trial) -> None:
        """After the diagnosis: the early trials that no longer apply are dropped (started again
        later under the stand-in's constraints if one serves); the kept variants that are not the
        stand-in are removed once they are done."""
        serves_as_platform = self.stand_in is None and platform.startup.serving
        for key in self._early:
            if not serves_as_platform and not (key in diagnosis.STAND_IN_ORDER and "diagnosis" in self.needed
                                               and key in self.trials):
                self._drop(key)
            elif key in diagnosis.STAND_IN_ORDER and (self.stand_in is None or self.stand_in.name != key):
                self._futures[key].add_done_callback(_remove_candidate)

    def _drop(self, key: str) -> None:
        with self._lock:
            future = self._futures.pop(key, None)
            self._current.pop(key, None)
            self.trials.pop(key, None)
        if future is not None and key in VARIANTS:  # the restart and SIGTERM trials remove their own
            future.add_done_callback(_remove_candidate)

    def adopt(self, shared: Candidate) -> Candidate:
        """Take the platform's candidate (already waited on); returns the one the checks use."""
        platform = Trial("platform", shared, shared.startup)
        self.trials["platform"] = platform
        self.candidate = shared
        if "exercise" in self.needed and platform.served:
            with shared.client_http() as client:
                platform.observations = modes.exercise(client, self.config, shared.startup.first_calls,
                                                       platform=shared.platform)
        platform.log = shared.log_tail(LOG_LINES)
        if "diagnosis" in self.needed:
            self._diagnose(platform)
        self._settle_early(platform)
        if self.candidate.startup.serving and "baseline" in self.needed:
            self.baseline = scenarios.baseline(self.candidate)
        if self.prefetch:
            self.start_background()
        return self.candidate

    def start_background(self) -> None:
        """Start every trial the selected lifecycle checks need, together (idempotent)."""
        if self.candidate is not None and self.candidate.startup.serving:
            for key in self._wanted():
                self._ensure(key, in_background=True)

    def _diagnose(self, platform: Trial) -> None:
        if platform.startup.state == StartupState.EXITED:
            relaxed = diagnosis.STAND_IN_ORDER
        elif platform.served and diagnosis.suspects(platform):
            relaxed = ("writable", "no-env")
        else:
            return
        wait_all([self._ensure(name, keep=True) for name in relaxed], timeout=RESULT_WAIT_S)
        judgements = {rid: diagnosis.judge(self.trials, rid) for rid in (diagnosis.READONLY, diagnosis.ENV)}
        self.culprit = diagnosis.blame(judgements)
        chosen = diagnosis.stand_in(self.trials, judgements)
        for name in relaxed:
            if name != chosen and name in self.trials:  # off the verdict's path: 0.1-0.2 s each (`close` waits)
                self._remove_later(self.trials[name].candidate)
        if chosen is None:
            return
        self.stand_in = self.trials[chosen]
        self.candidate = self.stand_in.candidate
        if platform.startup.state == StartupState.EXITED:
            platform.startup.blame = self.culprit
            own = self.stand_in.startup
            self.candidate.startup = Startup(
                state=StartupState.STAND_IN, elapsed_s=own.elapsed_s, budget_s=own.budget_s, ready_s=own.ready_s,
                ready_answer=own.ready_answer, last_answer=own.last_answer, listeners=own.listeners,
                first_calls=own.first_calls, setup_calls=own.setup_calls, blame=self.culprit,
                note=f"{DESCRIPTIONS['platform']} {platform.startup.cause()}; {self.stand_in.description} it "
                     "serves, and the checks that need HTTP ran on that stand-in",
            )

    def stand_in_note(self) -> str | None:
        """The evidence line of every other check while a stand-in serves in the platform's place."""
        if self.stand_in is None:
            return None
        platform = self.trials["platform"]
        broken = ("the container does not start" if not platform.served
                  else f"{len(platform.problems)} of its answers fail")
        return (f"note: under the platform's constraints {broken} {see(self.culprit)}; this check ran on a "
                f"stand-in {self.stand_in.description}")

    def relaxed_failures(self) -> list[str]:
        """How the relaxed trials of a diagnosis that found no culprit ended (fixed order)."""
        return [f"{self.trials[name].description} {self.trials[name].failure()}" for name in diagnosis.STAND_IN_ORDER
                if name in self.trials and not self.trials[name].served]

    def see(self) -> str:
        """Where a check that cannot decide sends the reader: the ID blamed for the start-up."""
        startup = self.trials["platform"].startup
        return see(startup.blame or startup_owner(StartupState.TIMEOUT))

    def not_decided(self) -> NotChecked:
        """Why a check that compares with the platform's run cannot decide: the start-up failed, or
        (rare) its answers fail and no candidate with a constraint relaxed served to compare with.
        When the diagnosis ran, it says that relaxing the constraints did not help either."""
        platform = self.trials["platform"]
        also = "".join(f"; {line}" for line in self.relaxed_failures())
        if platform.served:
            return NotChecked(f"{len(platform.problems)} answers fail under the platform's constraints "
                              f"and no candidate with a constraint relaxed served to compare with{also}")
        return NotChecked(f"{platform.startup.cause()} {self.see()}{also}")

    @property
    def variant(self) -> str:
        """The variant the checks' candidate runs: the platform's, or the stand-in's."""
        return self.stand_in.name if self.stand_in else "platform"

    # -- the lifecycle checks' own trials, in threads ---------------------------------------------
    def writable_name(self) -> str:
        """The writable-root variant of the candidate in use (same reserved variables)."""
        return "writable" if VARIANTS[self.variant][1] else "writable-no-env"

    def _wanted(self) -> list[str]:
        """The trials to start in the background, from what the selected requirements need."""
        wanted = []
        if "restart" in self.needed:  # first: the longest path (`start_early`)
            wanted.append("restart")  # GRACEFUL-SHUTDOWN's SIGTERM too (`scenarios.restart`)
        if "writable" in self.needed:
            wanted.append(self.writable_name())
        return wanted

    def trial(self, name: str) -> Trial:
        """A variant's trial (started now if nobody asked for it yet), once finished."""
        return self._result(name)

    def restart(self) -> scenarios.RestartTrial:
        return self._result("restart")

    def _result(self, key: str):
        future = self._ensure(key)
        if self.progress is None or future.done():
            return future.result(RESULT_WAIT_S)
        started, deadline = time.monotonic(), time.monotonic() + RESULT_WAIT_S
        while not future.done() and time.monotonic() < deadline:
            with self._lock:
                running = sorted(k for k, f in self._futures.items() if not f.done())
            self.progress(f"lifecycle: waiting for the {key} trial ({time.monotonic() - started:.0f} s); "
                          f"running: {', '.join(running)}")
            wait_all([future], timeout=0.25)
        self.progress.done()
        return future.result(max(0.0, deadline - time.monotonic()))

    def _ensure(self, key: str, keep: bool = False, in_background: bool = False) -> Future:
        """The trial's future, started now if it is not yet. `in_background`: nothing waits on it
        before the lifecycle checks (else the diagnosis does)."""
        with self._lock:
            if key not in self._futures:
                token = self._current[key] = object()
                self._futures[key] = self._pool.submit(self._task(key, keep, token, in_background))
            return self._futures[key]

    def _in_turn(self, key: str, in_background: bool, trial):
        """`trial(started)`, its container started in its turn when in the background (`turns`);
        the next turn may go once it is started, or the trial ended without a container."""
        if in_background:
            self.turns.wait(key)
        try:
            return trial(lambda: self.turns.done(key))
        finally:
            self.turns.done(key)

    def _task(self, key: str, keep: bool, token: object, in_background: bool = False):
        if key == "restart":
            return lambda: self._in_turn(key, in_background, lambda started: scenarios.restart(
                self.make, self.variant, self.config, dispose=self._remove_later, started=started))

        def variant_trial() -> Trial:
            # A writable trial also records what it changed on disk, right after its exercise. In
            # the background it gives way: its container is started in its turn (after the restart
            # trial's and the platform's), and its boot yields to theirs when the cores are
            # contended: only the lifecycle checks, which come last, wait on it. For the diagnosis
            # (not in the background) it goes at once.
            # One the diagnosis may wait on (`keep`) is watched as closely as the restart trial: an
            # image that exits at once is judged when the last of them is seen to exit.
            writable = not VARIANTS[key][0]
            trial = self._in_turn(key, in_background, lambda started: conduct(
                self.make, key, self.config, diff=writable, keep=keep,
                cpu_shares=GIVES_WAY_SHARES if writable and in_background else None,
                started=started, poll_s=CRITICAL_POLL_S if keep else POLL_S, dispose=self._remove_later))
            with self._lock:
                if self._current.get(key) is token:  # not dropped meanwhile
                    self.trials[key] = trial
            return trial

        return variant_trial

    def _remove_later(self, candidate: Candidate) -> None:
        """Remove it in a thread of the pool (`close` removes whatever is left, whatever happens)."""
        try:
            self._pool.submit(candidate.remove)
        except RuntimeError:  # the session is closing: its sweep removes it
            candidate.remove()

    def make(self, constraints: Constraints, check: str = "") -> Candidate:
        """A candidate of this session (removed by `close`); refused once the session ends."""
        with self._lock:
            if self._closed:
                raise NotChecked("the session is ending: no new candidate")
            made = self.factory.make(constraints, check)
            self._made.append(made)
        return made

    # -- the end ---------------------------------------------------------------------------------
    def close(self) -> None:
        with self._lock:
            self._closed = True
            futures = list(self._futures.values())
        self.turns.end()
        self._pool.shutdown(wait=False, cancel_futures=True)
        # Containers first: a run still waiting on one (an interrupt, a stop ignored) ends at once.
        for made in list(self._made):
            made.remove()
        deadline = time.monotonic() + CLOSE_WAIT_S
        for future in futures:
            try:
                future.result(timeout=max(0.0, deadline - time.monotonic()))
            except Exception:  # noqa: BLE001 - whatever a trial met, its containers go below
                pass
        for made in self._made:  # again: one may have been created while the first pass ran
            made.remove()

    def __enter__(self) -> "SessionTrials":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _turn_order(early: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    """The platform's container and the restart trial's together (the restart trial's chain is the
    run's longest path; a failing platform's container is what the diagnosis waits on), then the
    others'. Measured on the reference, medians of 10 pairs: 0.13 s shorter than the three one after
    the other, which an image that exits at once pays 0.09 s for; the restart trial's alone first
    was within the noise for the reference and 0.2 s slower for an image that exits at once."""
    first = ("platform", *(key for key in early if key == "restart"))
    rest = tuple(key for key in early if key != "restart")
    return (first, rest) if rest else (first,)


def _remove_candidate(future: Future) -> None:
    """A finished variant trial's container, when nobody needs it running any more."""
    try:
        trial = future.result()
    except Exception:  # noqa: BLE001 - a trial that failed removed (or never made) its container
        return
    if trial.candidate is not None:
        trial.candidate.remove()
