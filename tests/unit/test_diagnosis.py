"""Which constraint breaks a candidate, from runs that relax one at a time; and which run stands
in for the platform's."""

import pytest

from conformance.candidate.readiness import Startup
from conformance.lifecycle import diagnosis, scenarios
from conformance.lifecycle.variants import Trial
from conformance.wire import exchange
from conformance.wire.modes import Observation

LABELS = ("GET /ready", "GET /health", "POST /chat (Accept: application/json)", "POST /chat (Accept: text/event-stream)")


def answer(status: int | None, content_type: str = "application/json") -> exchange.Exchange:
    return exchange.Exchange("GET", "/", (), None, status, (("content-type", content_type),) if status else (),
                             error="" if status else "connection refused")


def trial(name: str, state: str = "ready", failing: dict[str, int] | None = None) -> Trial:
    failing = failing or {}
    served = state == "ready"
    observations = [Observation(label, answer(failing.get(label, 200)), f"answered {failing[label]}" if label in failing else None)
                for label in LABELS] if served else []
    return Trial(name, None, Startup(state=state, elapsed_s=0.5, budget_s=30, exit_code=None if served else 2), observations)


def table_of(*runs: Trial) -> dict[str, Trial]:
    return {r.name: r for r in runs}


def judged(table: dict[str, Trial]) -> dict[str, diagnosis.Judgement]:
    return {rid: diagnosis.judge(table, rid) for rid in (diagnosis.READONLY, diagnosis.ENV)}


def test_a_candidate_that_serves_clears_both_on_its_own():
    verdicts = judged(table_of(trial("platform")))
    assert verdicts[diagnosis.READONLY] == diagnosis.Judgement("pass", "platform")
    assert verdicts[diagnosis.ENV].status == "pass"


def test_exits_only_on_the_read_only_root():  # `uv run`, a cache under $HOME
    table = table_of(trial("platform", "exited"), trial("writable"), trial("no-env", "exited"),
                     trial("writable-no-env"))
    verdicts = judged(table)
    assert verdicts[diagnosis.READONLY] == diagnosis.Judgement("fail", "platform", "writable", exited=True)
    assert verdicts[diagnosis.ENV] == diagnosis.Judgement("pass", "writable")  # judged where the root is writable
    assert diagnosis.blame(verdicts) == diagnosis.READONLY
    assert diagnosis.stand_in(table, verdicts) == "writable"


def test_exits_only_with_the_reserved_variables():  # in-cluster mode switched on by KUBERNETES_*
    table = table_of(trial("platform", "exited"), trial("writable", "exited"), trial("no-env"),
                     trial("writable-no-env"))
    verdicts = judged(table)
    assert verdicts[diagnosis.ENV] == diagnosis.Judgement("fail", "platform", "no-env", exited=True)
    assert verdicts[diagnosis.READONLY] == diagnosis.Judgement("pass", "no-env")
    assert diagnosis.blame(verdicts) == diagnosis.ENV and diagnosis.stand_in(table, verdicts) == "no-env"


def test_both_constraints_each_break_it():
    table = table_of(trial("platform", "exited"), trial("writable", "exited"), trial("no-env", "exited"),
                     trial("writable-no-env"))
    verdicts = judged(table)
    assert verdicts[diagnosis.READONLY] == diagnosis.Judgement("fail", "no-env", "writable-no-env", exited=True)
    assert verdicts[diagnosis.ENV] == diagnosis.Judgement("fail", "writable", "writable-no-env", exited=True)
    assert diagnosis.blame(verdicts) == diagnosis.READONLY
    assert diagnosis.stand_in(table, verdicts) == "writable-no-env"


def test_nothing_serves_anywhere_decides_nothing():
    table = table_of(trial("platform", "exited"), trial("writable", "exited"), trial("no-env", "exited"),
                     trial("writable-no-env", "exited"))
    verdicts = judged(table)
    assert {v.status for v in verdicts.values()} == {"undecided"}
    assert diagnosis.blame(verdicts) is None and diagnosis.stand_in(table, verdicts) is None


def test_answers_that_fail_only_on_the_read_only_root():  # a log file written on each request
    chat = {LABELS[2]: 500, LABELS[3]: 500}
    table = table_of(trial("platform", failing=chat), trial("writable"), trial("no-env", failing=chat))
    verdicts = judged(table)
    assert verdicts[diagnosis.READONLY] == diagnosis.Judgement("fail", "platform", "writable", LABELS[2:])
    assert verdicts[diagnosis.ENV] == diagnosis.Judgement("pass", "platform", "no-env", LABELS[2:])
    assert diagnosis.stand_in(table, verdicts) == "writable"


def test_a_defect_every_variant_shows_is_someone_else_s():  # e.g. 5xx until a model loads
    early = {LABELS[2]: 503}
    table = table_of(trial("platform", failing=early), trial("writable", failing=early),
                     trial("no-env", failing=early))
    verdicts = judged(table)
    assert verdicts[diagnosis.READONLY] == diagnosis.Judgement("pass", "platform", "writable", (LABELS[2],))
    assert diagnosis.blame(verdicts) is None and diagnosis.stand_in(table, verdicts) is None


def test_a_wrong_status_or_media_type_is_never_the_constraints():  # a 204 from /health is HEALTH-200's
    verdicts = judged(table_of(trial("platform", failing={LABELS[1]: 204})))  # decided without relaxed runs
    assert verdicts[diagnosis.READONLY] == diagnosis.Judgement("pass", "platform", labels=(LABELS[1],))
    assert verdicts[diagnosis.ENV].status == "pass"


@pytest.mark.parametrize("status, media, same", [(200, "application/json; charset=utf-8", True), (500, "application/json", False),
                                                 (200, "text/plain", False), (None, "", False)])
def test_restarts_compare_status_and_media_type(status, media, same):
    first = [Observation("GET /ready", answer(200), None)]
    again = [Observation("GET /ready", answer(status, media), None)]
    assert (scenarios.differences(first, again) == []) is same
