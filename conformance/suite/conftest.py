"""Fixtures of the conformance suite. Checks that only read share one candidate per session (per
xdist worker); checks that restart or signal start their own with `start_candidate`."""

from __future__ import annotations

import pytest

from conformance import endpoints, runtime, streaming
from conformance.candidate import PLATFORM_PROFILE, Candidate, Profile
from conformance.engine import connect
from conformance.image import inspect_image
from conformance.plugin import EVIDENCE, STATE


def pytest_generate_tests(metafunc):
    """`endpoint`: every endpoint the agent config declares, whatever its method and path."""
    if "endpoint" in metafunc.fixturenames:
        declared = metafunc.config.stash[STATE].config.endpoints
        metafunc.parametrize("endpoint", declared, ids=[e.label for e in declared], scope="session")


@pytest.fixture(scope="session")
def run(pytestconfig):
    return pytestconfig.stash[STATE]


@pytest.fixture(scope="session")
def agent_config(run):
    return run.config


@pytest.fixture(scope="session")
def budgets(agent_config):
    return agent_config.budgets


@pytest.fixture(scope="session")
def docker_client():
    client = connect()
    yield client
    client.close()


@pytest.fixture(scope="session")
def image_info(run, docker_client):
    # The controller inspected it already; an xdist worker reads it itself.
    return run.image or inspect_image(docker_client, run.image_ref)


@pytest.fixture(scope="session")
def platform_run(request, run, docker_client, image_info, agent_config):
    """The runs around the shared candidate: its first answers, the diagnosis when a platform
    constraint breaks it, and the lifecycle checks' own candidates (conformance.runtime)."""
    with runtime.PlatformRun(docker_client, image_info, run.run_id, run.owner, agent_config,
                             runtime.selected_ids(request.session.items), internal_network=run.internal_network) as platform:
        yield platform


@pytest.fixture(scope="session")
def candidate(run, docker_client, image_info, budgets, agent_config, platform_run):
    """The shared candidate, started as the platform starts it and waited on until ready (or
    until its failure is certain: `candidate.startup` says how the wait ended). When the read-only
    root or the reserved variables break it, a stand-in with that constraint relaxed serves in its
    place, and the checks' evidence says so (conformance.runtime)."""
    shared = Candidate(docker_client, image_info, run.run_id, PLATFORM_PROFILE, owner=run.owner, budgets=budgets,
                       internal_network=run.internal_network)
    try:
        shared.start()
        shared.wait_ready(budgets.startup_s, on_ready=lambda http: endpoints.call_all(http, agent_config))
        chosen = platform_run.adopt(shared)
        startup = chosen.startup
        if endpoints.unserved(startup.first_calls):
            with chosen.client_http() as http:
                startup.settled_s = endpoints.settle(http, agent_config, within_s=budgets.startup_s)
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
def start_candidate(request, run, docker_client, image_info, budgets):
    """Factory for a candidate of the check's own (restarted, signalled, other constraints)."""
    made: list[Candidate] = []

    def start(profile: Profile = PLATFORM_PROFILE) -> Candidate:
        new = Candidate(docker_client, image_info, run.run_id, profile, owner=run.owner, budgets=budgets,
                        internal_network=run.internal_network)
        new.check = request.node.name  # names its log in a certification bundle
        made.append(new)
        return new.start()

    yield start
    for each in made:
        each.remove()


@pytest.fixture
def evidence(request) -> list[str]:
    """Lines a check records as it goes; they become the requirement's evidence (pass or fail)."""
    lines: list[str] = []
    request.node.stash[EVIDENCE] = lines
    return lines


@pytest.fixture(scope="session")
def lifecycle_runs(candidate, platform_run):
    """The platform run once the shared candidate is settled (for the lifecycle checks); their
    own candidates start together at the latest when the first of these checks comes."""
    platform_run.start_background()
    return platform_run


@pytest.fixture(autouse=True)
def _stand_in_noted(request):
    """A check that ran on a stand-in (the platform's candidate does not serve) says so."""
    if "candidate" not in request.fixturenames or runtime.LIFECYCLE_IDS & runtime.selected_ids([request.node]):
        return
    request.getfixturevalue("candidate")  # settled first: it decides whether a stand-in serves
    note = request.getfixturevalue("platform_run").stand_in_note()
    if note:
        request.getfixturevalue("evidence").append(note)


@pytest.fixture(scope="session")
def sse_captures(http):
    """One streamed SSE answer per endpoint and Accept value, shared by the SSE checks."""
    cache: dict = {}

    def get(endpoint, accept: str = endpoints.SSE_MODE) -> streaming.StreamCapture:
        key = (endpoint.label, accept)
        if key not in cache:
            cache[key] = streaming.capture(http, endpoint, accept)
        return cache[key]

    return get
