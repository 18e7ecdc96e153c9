"""The environment and the life of a container on the platform: its reserved variables set
(PLATFORM-ENV), replaced and restarted at will (STATELESS-RESTART), stopped with SIGTERM
(GRACEFUL-SHUTDOWN), and never dying on its own (STAYS-UP, watched over the whole run).

The candidates of these checks start together in the background (conformance.lifecycle.session);
the checks run after the others (their phase in the catalogue), and STAYS-UP after everything."""

from __future__ import annotations

import pytest

from conformance.candidate.signals import give_up_s
from conformance.check import NotChecked, fail, see
from conformance.lifecycle import diagnosis, log_causes, scenarios, stop_causes
from conformance.lifecycle.variants import VARIANTS, variant_name


def _require_serving(trials, evidence: list[str]) -> None:
    """NotChecked unless the checks' candidate serves; when it is a stand-in, the evidence says so
    (this check's own candidates then run under the stand-in's constraints too)."""
    startup = trials.candidate.startup
    if not startup.serving:
        raise NotChecked(f"{startup.cause()} {trials.see()}")
    note = trials.stand_in_note()
    if note:
        evidence.append(note)


def _log_tail(lines: list[str], count: int = 15) -> list[str]:
    return [f"log tail ({min(count, len(lines))} lines):"] + [f"  | {line}" for line in lines[-count:]]


@pytest.mark.requirement("PLATFORM-ENV")
def test_serves_with_the_platform_variables(lifecycle_trials, platform, evidence):
    trials = lifecycle_trials
    verdict = diagnosis.judge(trials.trials, diagnosis.ENV)
    if verdict.status == "undecided":
        raise trials.not_decided()
    strict = trials.trials[verdict.strict]
    relaxed = trials.trials.get(verdict.relaxed)
    injected = f"{platform.name_list(platform.reserved_env)} (dummy values)"
    if verdict.status == "fail":
        said = log_causes.variable_lines(strict.log, platform.reserved_env) + log_causes.error_lines(strict.log)
        words = ["the agent's log:"] + [f"  | {line}" for line in dict.fromkeys(said) or strict.log[-8:]]
        words += [f"how to fix: {hint}" for hint in log_causes.variable_hints(strict.log)]
        if verdict.exited:
            fail(f"with the platform's reserved variables set, {strict.failure()}; {relaxed.description} it "
                 "becomes ready and serves", [f"set: {injected}", *words])
        first = strict.problems[verdict.labels[0]]
        fail(f"{first.what} {first.problem} with the reserved variables set, not {relaxed.description}",
             [f"set: {injected}", *first.answer.evidence(), *words])
    where = ("under the platform's constraints" if strict.name == "platform"
             else f"{strict.description} (see READONLY-ROOTFS)")
    evidence.append(f"with {injected} set, {where}: it serves, {len(strict.observations) - len(strict.problems)} of "
                    f"{len(strict.observations)} answers as the contract asks")
    evidence += [f"not set: {name}, which the platform sets too: it {why}" for name, why in platform.withheld_env.items()]
    for label in verdict.labels:
        evidence.append(f"{label} {strict.problems[label].problem}"
                        f"{' ' + relaxed.description + ' as well' if relaxed else ''}: not the variables' doing "
                        "(another requirement reports it)")
    # Information, when the diagnosis ran without them (it is not run for this line alone): the
    # platform always sets PORT, but an image that needs it fails under `docker run`.
    bare = trials.trials.get(variant_name(VARIANTS[strict.name][0], False))
    if bare is None:
        return
    worse = [observation for label, observation in bare.problems.items() if label not in strict.problems]
    if bare.served and not worse:
        evidence.append("without any of them (PORT unset, as under a plain `docker run`) it serves as well")
    elif bare.served:
        evidence.append(f"information: without them (PORT unset) {len(worse)} more answers fail: "
                        f"{worse[0].what} {worse[0].problem}")
    else:
        evidence.append(f"information: without them (PORT unset) {bare.failure()}: it depends on PORT (or another "
                        "reserved variable); the platform sets PORT=8080, a plain `docker run` does not")


@pytest.mark.requirement("STATELESS-RESTART")
def test_restarted_and_fresh_containers_answer_alike(lifecycle_trials, budgets, evidence):
    trials = lifecycle_trials
    _require_serving(trials, evidence)
    first = trials.trials[trials.variant]
    result = trials.restart()
    evidence.append(f"first run: {_readiness(first.startup)}; {len(first.observations)} answers")
    _judge_start("a fresh container of the same image", result.fresh.startup, first.startup, budgets,
                 result.fresh.failure(), result.fresh.log)
    changed = scenarios.differences(first.observations, result.fresh.observations)
    if changed:
        fail(f"a fresh container answers differently: {changed[0]}", changed)
    evidence.append(f"fresh container: {_readiness(result.fresh.startup)}; the same status and media type for all "
                    f"{len(result.fresh.observations)} answers")
    if result.error or result.restarted is None:
        raise NotChecked(f"the restart could not be made: {result.error or result.stop.summary()}")
    _judge_start("after a restart", result.restarted, first.startup, budgets,
                 result.restarted.cause(), result.log)
    changed = scenarios.differences(first.observations, result.observations)
    if changed:
        fail(f"after a restart the container answers differently: {changed[0]}", changed)
    before, after = result.addresses
    moved = ("a new address (Docker reassigns ports and addresses on restart)" if after != before
             else "the same address")
    evidence.append(f"restarted (SIGTERM, then started again, as `docker restart` does): "
                    f"{_readiness(result.restarted)} on {moved}; the same status and "
                    f"media type for all {len(result.observations)} answers")


def _readiness(startup) -> str:
    if startup.ready_s is not None:
        return f"ready {startup.ready_s:.2f} s after start"
    return f"serving, /ready not 200 ({startup.cause()})"


def _judge_start(what: str, startup, first, budgets, cause: str, log: list[str]) -> None:
    if startup is None or not startup.serving:
        fail(f"{what} does not serve again: {cause}", _log_tail(log))
    if first.ready_s is not None and startup.ready_s is None:
        fail(f"{what} never answers /ready 200 ({startup.cause()}); the first run did after {first.ready_s:.2f} s",
             _log_tail(log))
    slow_now = startup.ready_s is not None and startup.ready_s > budgets.startup_s
    slow_first = first.ready_s is not None and first.ready_s > budgets.startup_s
    if slow_now and not slow_first:
        fail(f"{what} is ready only {startup.ready_s:.1f} s after start (budget {budgets.startup_s:g} s; the first "
             f"run: {first.ready_s:.2f} s): is it rebuilding state that a restart lost?", _log_tail(log))


@pytest.mark.requirement("GRACEFUL-SHUTDOWN")
def test_exits_within_10_s_of_sigterm(lifecycle_trials, image_info, platform, evidence):
    trials = lifecycle_trials
    _require_serving(trials, evidence)
    restart = trials.restart()  # stopped mid-stream (idle when no endpoint is declared), then started again
    if restart.stop is None:
        raise NotChecked(f"no container to stop: a fresh one {restart.fresh.failure()} {see('STATELESS-RESTART')}")
    stop = restart.stop
    pid1 = stop.pid1
    if pid1.command:
        handles = {True: "handles SIGTERM", False: "has no SIGTERM handler", None: "(signal handlers unreadable)"}
        disposition = "ignores SIGTERM (SIG_IGN)" if pid1.ignores_term else handles[pid1.catches_term]
        evidence.append(f"PID 1: {pid1.command} — {disposition}")
    evidence.append(stop.summary())
    if stop.error:
        raise NotChecked(stop.summary())
    if not stop.graceful:
        took = (f"was still running {give_up_s(platform.grace_s):g} s later" if stop.elapsed_s is None
                else f"took {stop.elapsed_s:.1f} s to exit")
        causes = stop_causes.likely_causes(image_info.start_command, pid1, mid_stream="stream" in stop.when,
                                           grace_s=platform.grace_s)
        fail(f"SIGTERM {stop.when}: the container {took} (the platform kills it {platform.grace_s:g} s after "
             "SIGTERM)", [f"likely cause: {cause}" for cause in causes])


# Its phase (WATCH) comes after every check of this worker that uses the shared candidate; the
# lifecycle checks after it use candidates of their own.
@pytest.mark.requirement("STAYS-UP")
def test_stays_up_through_the_run(lifecycle_trials, evidence):
    trials = lifecycle_trials
    _require_serving(trials, evidence)
    candidate, start = trials.candidate, trials.baseline
    if start is None:
        raise NotChecked(f"the container was gone before the watch began {trials.see()}")
    probes = scenarios.soak(candidate)
    end = scenarios.health(candidate)
    if probes.first_miss or end.status is None:
        scenarios.await_exit(candidate)  # a dying process drops connections before Docker sees it exit
    state = candidate.reload()
    status = state["State"]
    if not status.get("Running"):
        oom = " (killed: out of memory)" if status.get("OOMKilled") else ""
        at_end = f", {probes.sent} probes into the {scenarios.SOAK_REQUESTS} sent at the end" if probes.first_miss else ""
        fail(f"the container exited with code {status.get('ExitCode')}{oom} during the run{at_end}",
             [f"finished at {status.get('FinishedAt')}; started at {status.get('StartedAt')}",
              *_log_tail(candidate.log_tail(30), 30)])
    restarts = int(state.get("RestartCount") or 0) - start.restart_count
    if restarts or status.get("StartedAt") != start.started_at:
        fail(f"the container was restarted during the run (started at {start.started_at}, now since "
             f"{status.get('StartedAt')})", _log_tail(candidate.log_tail(30), 30))
    was, now = scenarios.signature(start.health), scenarios.signature(end)
    evidence.append(f"running all along; {probes.sent} probes (/ready, /health) sent in {probes.elapsed_s:.1f} s "
                    f"at the end, {probes.lanes} at a time on fresh connections" + (f"; one went unanswered: {probes.first_miss.summary()}" if probes.first_miss
                                    else ", all answered"))
    evidence.append(f"GET /health at the start: {was}; at the end: {now}")
    if was != now:
        fail(f"GET /health answered {now} at the end of the run, {was} at the start", end.evidence())
