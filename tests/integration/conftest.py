"""Every test here needs a Docker daemon (marked `docker`), and none may leave a container,
volume or network of the suite behind."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from conformance.candidate.labels import owner_host
from tests.helpers import labelled_owners, owner_alive

HERE = Path(__file__).parent


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.docker)


@pytest.fixture(scope="session", autouse=True)
def no_container_of_ours_outlives_the_session(docker_client):
    """After the whole session, nothing the suite's runs labelled may remain (per-run checks above
    catch the culprit; this catches runs the tests did not wait for)."""
    yield
    mine = f"{owner_host()}:"
    deadline = time.monotonic() + 10
    while True:
        left = [name for name, owner in labelled_owners(docker_client) if owner.startswith(mine) and not owner_alive(owner)]
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert not left, f"containers, volumes or networks left behind by finished runs: {left}"


