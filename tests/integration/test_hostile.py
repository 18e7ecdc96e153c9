"""Hostile candidates (sample_agents/hostile/): whatever the image does, the run ends within its
budgets with the expected verdict and evidence, the suite's own memory stays bounded, and nothing
of the run — container, volume, network — is left in the engine. Each runs with --certify, so the
bundle's log capture meets the hostile logs too."""

from __future__ import annotations

import re
import time

import pytest

from conformance.candidate import logs as candidate_logs
from conformance.candidate import signals
from conformance.candidate.container import Candidate
from conformance.candidate.engine import inspect_image
from conformance.candidate.readiness import startup_cap_s
from conformance.contract.agent_config import Budgets, load_config_file
from samplekit import matrix, samples
from tests.helpers import finish, start_cli
from tests.integration.test_vulns_gate import for_image

HOSTILE = [s for s in samples.discover() if s.name.startswith("hostile/")]
OVERHEAD_S = 30.0  # Python and pytest starting, containers made and removed, reports and bundle written
# The command with pytest, Hypothesis, docker-py and httpx loaded is about 100 MiB; what a hostile
# answer may add is bounded by the budgets (16 MiB of body, kept in part), times the answers in
# flight at once (the first calls and the endpoint answers asked for beside them: up to about
# 200 MiB on the 1 GiB document); for the first seconds the child that generates the first fuzz
# round adds about 50 MiB (conformance.fuzz.pregenerated). Measured 300-340 MiB; an unbounded
# read of the 1 GiB document would be far past this.
PEAK_RSS_MIB = 400.0
# Per sample: a requirement and what its evidence must say.
EVIDENCE = {
    "hostile/endless-stream": ("SSE-FRAMING", "the stream did not end within 2 s (cap stream_s)"),
    "hostile/huge-json": ("NEGOTIATE-JSON", "the body went on past 16 MiB (cap response_mib)"),
    "hostile/silent": ("STARTUP-TIME", "no answer: no response head within"),
    "hostile/not-http": ("NEGOTIATE-JSON", "not HTTP (Server disconnected without sending a response.); it sent b'SSH-2.0"),
    "hostile/memory-hog": ("STARTUP-TIME", "exited with code 137 (killed: out of memory)"),
    "hostile/ignores-signals": ("GRACEFUL-SHUTDOWN", "ignores SIGTERM (SIG_IGN)"),
}


def budgets_of(sample: samples.Sample) -> Budgets:
    return load_config_file(sample.agent_config).budgets if sample.agent_config else Budgets()


def wall_time_bound(budgets: Budgets) -> float:
    """Every wait of a run added up: readiness at its cap, an answer's head, a request, a stream,
    the fuzz phase and the request it may still be sending, SIGTERM waited on up to the kill."""
    return (startup_cap_s(budgets.startup_s) + budgets.first_byte_s + budgets.request_s + budgets.stream_s
            + budgets.fuzz_s + budgets.request_s + signals.give_up_s(signals.KUBERNETES_GRACE_S) + OVERHEAD_S)


@pytest.mark.parametrize("sample", HOSTILE, ids=[s.name for s in HOSTILE])
def test_a_hostile_candidate_gets_a_verdict_in_bounded_time_and_memory(sample, built_samples, tmp_path, docker_client):
    bundle = tmp_path / "bundle"
    # A certification checks every MUST: the scan's too (a clean report, made to name this image).
    scan = for_image("trivy-clean.json", docker_client.images.get(sample.tag).id, tmp_path / "trivy.json")
    args = [sample.tag, "--certify", str(bundle), "--vuln-report", str(scan)] + (
        ["--agent-config", str(sample.agent_config)] if sample.agent_config else [])
    started = time.monotonic()
    run = finish(start_cli(args, tmp_path), tmp_path, started, docker_client)  # nothing of it left behind
    print(f"{sample.name}: {run.elapsed_s:.1f} s, peak RSS {run.peak_rss_mib:.0f} MiB")

    assert matrix.compare(sample.expected, run.report, run.returncode) == [], run.explain()
    for rid in sample.expected.fail:
        assert run.requirement(rid)["evidence"], f"{rid} failed without evidence"
    if sample.name in EVIDENCE:
        rid, said = EVIDENCE[sample.name]
        assert said in "\n".join(run.requirement(rid)["evidence"]), run.explain()
    assert run.elapsed_s < wall_time_bound(budgets_of(sample)), run.explain()
    assert run.peak_rss_mib < PEAK_RSS_MIB
    logs = list((bundle / "logs").glob("*.log"))
    assert logs and all(log.stat().st_size < candidate_logs.KEPT_MAX_BYTES + 4096 for log in logs)
    if sample.name == "hostile/fork-bomb":  # where fork failed: within the container's limit, not the host's
        said = [line for log in logs for line in log.read_text().splitlines() if line.startswith("fork bomb: fork failed")]
        assert said and all(0 < int(line.split()[5]) < budgets_of(sample).pids for line in said), said


def test_a_flooded_log_is_shown_in_bounded_lines(built_samples, docker_client):
    """The flood's 4 MiB lines reach the evidence cut to a few hundred characters."""
    sample = built_samples["hostile/log-flood"]
    candidate = Candidate(docker_client, inspect_image(docker_client, sample.tag), "hostile-test")
    try:
        candidate.start()
        deadline = time.monotonic() + 30
        lines: list[str] = []
        while not any(line.startswith("xxx") for line in lines) and time.monotonic() < deadline:
            time.sleep(0.2)
            lines = candidate.log_tail(200)
        long = [line for line in lines if line.startswith("xxx")]
        assert long and all(len(line) <= candidate_logs.LINE_CHARS + 40 for line in lines)
        # Cut to its start and its end. The end may carry a line uvicorn wrote to stderr meanwhile: the
        # log driver stores a 4 MiB line as 16 KiB pieces, and the other stream's lines fall between them.
        assert re.match(r"x+ … \(\d+ characters\) … x", long[0]), long[0][-120:]
    finally:
        candidate.remove()
