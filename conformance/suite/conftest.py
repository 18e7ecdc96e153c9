"""Fixtures of the conformance suite: what a check may ask for by name. The checks that only read
share one candidate per session (per xdist worker); the lifecycle checks read trials of their own,
started together in the background (`lifecycle_trials`)."""

from __future__ import annotations

import os

import pytest

from conformance.candidate.container import PLATFORM_CONSTRAINTS, CandidateFactory
from conformance.check import NotChecked, see
from conformance.candidate.engine import connect, inspect_image
from conformance.contract.catalogue import LIFECYCLE_IDS
from conformance.fuzz.generation import choose_seed, warm_up
from conformance.fuzz.pregenerated import FirstRound
from conformance.lifecycle.session import SessionTrials
from conformance.report import attestation
from conformance.run_context import RunContext
from conformance.run_state import EVIDENCE, MARKER, STATE
from conformance.wire import modes, streaming
from conformance.wire.answers import EndpointAnswers


def pytest_generate_tests(metafunc):
    """`endpoint`: every endpoint the agent config declares, whatever its method and path."""
    if "endpoint" in metafunc.fixturenames:
        declared = metafunc.config.stash[STATE].config.endpoints
        metafunc.parametrize("endpoint", declared, ids=[e.label for e in declared], scope="session")


def _requirement_ids(items) -> set[str]:
    """The requirement IDs of these checks (after -k/-m deselection)."""
    return {mark.args[0] for item in items for mark in item.iter_markers(MARKER) if mark.args}


@pytest.fixture(scope="session")
def run_state(pytestconfig):
    """What the run knows: the image reference, the agent config, the run's labels, the parsed
    vulnerability report, the certification bundle's directory."""
    return pytestconfig.stash[STATE]


@pytest.fixture(scope="session")
def agent_config(run_state):
    return run_state.config


@pytest.fixture(scope="session")
def run_context(run_state, docker_client) -> RunContext:
    """What never changes in the run: the profile as `platform`, the scaled budgets, the engine,
    how candidates are reached. The controller made it at session start; an xdist worker makes
    its own, once, from the same engine."""
    return run_state.context or RunContext.on_engine(docker_client, run_state.profile, run_state.config.budgets,
                                                     bool(run_state.internal_network))


@pytest.fixture(scope="session")
def platform(run_context):
    """What the platform does to a container and asks of it (`contract.platform.Platform`): its
    port, probes, reserved variables, grace, writable paths, with emulation's time factor applied."""
    return run_context.platform


@pytest.fixture(scope="session")
def budgets(run_context):
    """The agent config's budgets, scaled where the image runs under emulation (an arm64 profile
    on an amd64 engine): every wait of the run uses these, trials and fuzzer included."""
    return run_context.budgets


@pytest.fixture(scope="session")
def docker_client(run_state):
    client = connect(watch=run_state.watch)
    yield client
    client.close()


@pytest.fixture(scope="session")
def image_info(run_state, docker_client):
    # The controller inspected it already; an xdist worker reads it itself.
    return run_state.image or inspect_image(docker_client, run_state.image_ref)


@pytest.fixture(scope="session")
def candidates(run_state, run_context, docker_client, image_info) -> CandidateFactory:
    """Makes this run's candidates: labelled, confined, within the budgets, their logs kept."""
    return CandidateFactory(docker_client, image_info, run_state.run_id, run_state.owner, run_context.budgets,
                            run_state.internal_network, _measure_then(run_state.before_remove, run_state),
                            reach=run_context.reach, engine_kind=run_context.engine_kind,
                            platform=run_context.platform, agent_env=run_state.config.env,
                            setup=run_state.config.setup)


def _measure_then(keep_log, run_state):
    """Before a candidate is removed: its start-up figures and the requests sent so far for the
    report, then its log kept."""

    def before_remove(candidate) -> None:
        # The requests of this process so far (the candidates share one count: each drains what is new).
        run_state.measurements.requests(candidate.traffic.drain_counts())
        run_state.measurements.latencies(candidate.traffic.drain_latencies())
        startup = candidate.startup
        if startup is not None:
            role = candidate.constraints.role
            run_state.measurements.startup(candidate.check or role, role, str(startup.state), startup.elapsed_s,
                                           startup.budget_s, startup.first_answer_s, startup.ready_s)
        if keep_log is not None:
            keep_log(candidate)

    return before_remove


@pytest.fixture(scope="session")
def session_trials(request, candidates, agent_config, run_state):
    """The trials around the shared candidate: its first answers, the diagnosis when a platform
    constraint breaks it, and the lifecycle checks' own candidates (conformance.lifecycle.session)."""
    with SessionTrials(candidates, agent_config, _requirement_ids(request.session.items),
                       progress=run_state.progress) as trials:
        yield trials


@pytest.fixture(scope="session")
def candidate(request, candidates, budgets, agent_config, session_trials, run_state, answer_set, fuzz_first_round,
              pytestconfig):
    """The shared candidate, started as the platform starts it and waited on until ready (or
    until its failure is certain: `candidate.startup` says how the wait ended). When the read-only
    root or the reserved variables break it, a stand-in with that constraint relaxed serves in its
    place, and the checks' evidence says so (conformance.lifecycle.session).
    The endpoints' answers the checks judge are asked for the moment it is ready, beside the first
    calls, and kept if those were served (`wire.answers`)."""
    shared = candidates.make(PLATFORM_CONSTRAINTS)
    answers_wanted = any("endpoint_answers" in item.fixturenames for item in request.session.items)
    examples = pytestconfig.getoption("fuzz_examples")
    fuzzing = any("fuzz_campaign" in item.fixturenames for item in request.session.items)
    if examples > 0 and budgets.fuzz_concurrency > 1 and "PYTEST_XDIST_WORKER" not in os.environ and fuzzing:
        fuzz_first_round.start(agent_config.endpoints, examples)  # on the other core while candidates boot

    def on_ready(http):
        if answers_wanted:
            answer_set.start(shared)
        return modes.call_at_ready(http, agent_config)

    try:
        session_trials.start_early()  # the lifecycle trials overlap its start-up
        session_trials.shared_turn()  # the containers are started in turns, this one in the first
        try:
            shared.start()
        finally:
            session_trials.shared_started()
        if fuzzing:
            warm_up()  # Hypothesis imported while the candidates boot, not before the first starts
        if run_state.bundle is not None:
            attestation.warm_up()  # likewise securesystemslib, for the bundle's envelope
        startup = shared.wait_ready(budgets.startup_s, on_ready=on_ready, progress=run_state.progress)
        run_state.progress.done()
        if not startup.serving:
            fuzz_first_round.close()  # its CPU goes to the diagnosis' candidates instead
        chosen = session_trials.adopt(shared)
        startup = chosen.startup
        answer_set.keep_if(chosen is shared and not modes.unserved(startup.first_calls))
        if modes.unserved(modes.json_mode(startup.first_calls)):
            with chosen.client_http() as http:
                startup.settled_s = modes.settle(http, agent_config, within_s=budgets.startup_s)
        yield chosen
    finally:
        shared.remove()


@pytest.fixture(scope="session")
def http(candidate):
    """An HTTP client on the shared candidate; the check errors with the root cause if the
    candidate does not serve HTTP on 8080."""
    candidate.require_serving()
    with candidate.client_http() as client:
        yield client


@pytest.fixture
def evidence(request) -> list[str]:
    """Lines a check records as it goes; they become the requirement's evidence (pass or fail)."""
    lines: list[str] = []
    request.node.stash[EVIDENCE] = lines
    return lines


@pytest.fixture
def requirement_id(request) -> str:
    """The ID the check's marker names: the check compares it with the ID a failure is blamed on."""
    return request.node.get_closest_marker(MARKER).args[0]


@pytest.fixture(scope="session")
def lifecycle_trials(candidate, session_trials):
    """The session's trials once the shared candidate is settled (for the lifecycle checks); their
    own candidates start together at the latest when the first of these checks comes."""
    session_trials.start_background()
    return session_trials


@pytest.fixture(autouse=True)
def _stand_in_noted(request):
    """A check that ran on a stand-in (the platform's candidate does not serve) says so."""
    if "candidate" not in request.fixturenames or LIFECYCLE_IDS & _requirement_ids([request.node]):
        return
    request.getfixturevalue("candidate")  # settled first: it decides whether a stand-in serves
    note = request.getfixturevalue("session_trials").stand_in_note()
    if note:
        request.getfixturevalue("evidence").append(note)


@pytest.fixture(scope="session")
def fuzz_first_round(pytestconfig):
    """The fuzz campaign's seed, and its first round's requests once the shared candidate's fixture
    starts making them (`fuzz.pregenerated`)."""
    first = FirstRound(choose_seed(pytestconfig.getoption("fuzz_seed"), derandomize=bool(os.environ.get("CI"))))
    yield first
    first.close()


@pytest.fixture(scope="session")
def answer_set(agent_config, run_state) -> EndpointAnswers:
    """The declared endpoints' answers to the Accept values the negotiation and SSE checks use
    (`wire.answers`); the shared candidate's fixture asks for them the moment it is ready."""

    def on_stream(endpoint, accept, got) -> None:
        run_state.measurements.stream(endpoint.label, accept, got.answer.status, got.ended, got.chunk_sample,
                                      got.event_arrivals)

    return EndpointAnswers(agent_config.endpoints, on_stream)


@pytest.fixture(scope="session")
def endpoint_answers(candidate, http, answer_set):
    """`endpoint_answers(endpoint, accept)`: every declared endpoint's answer to every Accept value
    the negotiation and SSE checks use, fetched together (or early: `wire.answers`). JSON-mode
    answers are Exchanges, event-stream ones StreamCaptures (their arrivals go to the plots).
    `http` is asked for what it checks: a candidate that does not serve errors with its cause."""
    return lambda endpoint, accept: answer_set.get(candidate, endpoint, accept)


@pytest.fixture(scope="session")
def serving_problems(endpoint_answers, platform):
    """`serving_problems(endpoint)`: how the endpoint fails to serve its own example request, as
    (mode, answer, problem) per failing mode ([] when it serves). ENDPOINT-SERVES judges it; the
    checks of the answer's form skip on it (`require_served`). Computed once per endpoint."""
    known: dict = {}

    def problems(endpoint) -> list:
        if endpoint.label not in known:
            stream = endpoint_answers(endpoint, modes.SSE_MODE)
            known[endpoint.label] = modes.serving_problems(endpoint_answers(endpoint, modes.JSON_MODE), stream.answer,
                                                     stream_asked_must_succeed=not platform.agent_chooses_the_form)
        return known[endpoint.label]

    return problems


@pytest.fixture(scope="session")
def require_served(serving_problems):
    """`require_served(endpoint, mode=None)`: raises NotChecked "(see ENDPOINT-SERVES)" when the
    endpoint does not serve its own example request (in `mode`, or in either): a check of its
    answer's form would only repeat that defect. ENDPOINT-SERVES itself reports it, once."""

    def require(endpoint, mode: str | None = None) -> None:
        problems = [p for p in serving_problems(endpoint) if mode is None or p[0] == mode]
        if problems:
            shown, answer, problem = problems[0]
            raise NotChecked(f"{endpoint.label} with Accept: {shown} {problem} to its own example request, so its "
                             f"answer's form cannot be judged {see('ENDPOINT-SERVES')}")

    return require


@pytest.fixture(scope="session")
def sse_captures(endpoint_answers):
    """One streamed SSE answer per endpoint and Accept value, shared by the SSE checks."""

    def get(endpoint, accept: str = modes.SSE_MODE) -> streaming.StreamCapture:
        return endpoint_answers(endpoint, accept)

    return get
