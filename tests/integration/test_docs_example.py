"""The platform documentation's own example, reproduced in sample_agents/docs_example/: the code is
the docs' code, the Dockerfile the docs' Dockerfile (but for the offline build), and the suite says
why it cannot run on the platform. Its verdict and its corrected twin's pass are asserted by the
matrix (test_matrix.py, from their expected.toml); here, the reasons."""

from __future__ import annotations

import re
import time

import docker.errors

from tests.helpers import REPO

DOCS = REPO / "docs" / "contract" / "hosted-deployments.txt"  # the platform's page, as published
SAMPLE = REPO / "sample_agents" / "docs_example"


def docs_text() -> str:
    return DOCS.read_text()


def significant(lines) -> list[str]:
    """The page lost the code's indentation and blank lines: compare what is left."""
    return [line.strip() for line in lines if line.strip()]


def test_agent_example_is_the_docs_code():
    page = docs_text()
    code = page.split("wrapped with FastAPI.\n", 1)[1].split("Project Structure", 1)[0]
    assert significant((SAMPLE / "agent_example.py").read_text().splitlines()) == significant(code.splitlines())


def test_dockerfile_is_the_docs_dockerfile_but_for_the_offline_build():
    page = docs_text()
    theirs = page.split("Following is an example of Docker file in a project directory.\n", 1)[1]
    theirs = theirs.split("Build the docker image", 1)[0]
    instructions = lambda lines: [l for l in significant(lines) if not l.startswith("#")]  # noqa: E731
    docs = instructions(theirs.splitlines())
    docs[-1] = docs[-1].removesuffix("Build the docker image")  # the page runs the next heading on
    ours = instructions((SAMPLE / "Dockerfile").read_text().splitlines())
    # The documented substitutions: images as build arguments, the offline uv cache.
    substitutions = {
        "FROM python:3.11-slim": ["ARG BASE=python:3.11-slim", "ARG UV_IMAGE=ghcr.io/astral-sh/uv:latest",
                                  "FROM ${UV_IMAGE} AS uv", "FROM ${BASE}"],
        "COPY --from=ghcr.io/astral-sh/uv:latest /uv /bin/uv": ["COPY --from=uv /uv /bin/uv"],
        "RUN uv sync --frozen": ["COPY uvcache /root/.cache/uv", "ARG UV_OFFLINE=1", "RUN uv sync --frozen"],
    }
    expected = [line for instruction in docs for line in substitutions.get(instruction, [instruction])]
    assert ours == expected
    assert 'CMD ["uv", "run", "python", "agent_example.py"]' in ours


def test_the_suite_shows_uv_run_failing_on_the_read_only_root(built_samples, run_cli):
    run = run_cli(built_samples["docs_example"].tag)
    assert run.returncode == 1 and run.report["verdict"] == "fail", run.explain()
    failed = [r for r in run.report["requirements"] if r["status"] == "fail"]
    evidence = "\n".join(line for r in failed for line in r["evidence"])
    assert "exited with code 2" in evidence, run.explain()
    assert re.search(r"Read-only file system \(os error 30\) at path \"/root/\.cache/uv/", evidence), run.explain()
    # Every requirement that needs a running container names that cause instead of a verdict.
    blamed = {r["id"] for r in failed}
    for r in run.report["requirements"]:
        if r["status"] == "error":
            said = "\n".join(r["evidence"])
            assert "exited with code" in said or any(f"see {b}" in said for b in blamed), r


def test_even_on_a_writable_root_it_serves_nothing(built_samples, docker_client):
    """agent_example.py defines `app` and returns: `python agent_example.py` has nothing to run."""
    container = docker_client.containers.create(built_samples["docs_example"].tag, detach=True)
    try:
        container.start()
        deadline = time.monotonic() + 120  # importing langgraph takes seconds (more on a busy host)
        while time.monotonic() < deadline:
            container.reload()
            if container.status == "exited":
                break
            time.sleep(0.5)
        assert container.status == "exited", "still running after 120 s"
        assert container.attrs["State"]["ExitCode"] == 0
        assert container.logs() == b""  # no server ever said it was listening
    finally:
        try:
            container.remove(force=True)
        except docker.errors.NotFound:
            pass

