"""The fuzz phase sends several requests at once; what it reports stays exact. A crash met with
requests in flight is blamed on the one request that causes it: its reproduction, replayed on a
fresh container, kills that container too."""

from __future__ import annotations

import re
import subprocess
import time

from conformance.candidate.container import Candidate
from conformance.candidate.engine import inspect_image

SEED = 3


def repro_line(evidence: list[str]) -> str:
    return next(line.removeprefix("repro: ") for line in evidence if line.startswith("repro: curl "))


def test_a_crash_among_requests_in_flight_is_blamed_on_its_cause(built_samples, run_cli, docker_client):
    sample = built_samples["broken/model-latency-header-crash"]
    run = run_cli(sample.tag, "--fuzz-seed", str(SEED))
    evidence = run.requirement("ROBUST-INPUT")["evidence"]
    assert run.requirement("ROBUST-INPUT")["status"] == "fail", run.explain()
    assert "up to 4 at once" in "\n".join(evidence)
    assert "the container exited (code 70) on this request" in evidence
    curl = repro_line(evidence)
    assert re.search(r"\\x[89a-f][0-9a-f]", curl), f"the culprit carries a byte outside ASCII: {curl}"

    candidate = Candidate(docker_client, inspect_image(docker_client, sample.tag), "fuzz-replay-test")
    try:
        candidate.start()
        assert candidate.wait_ready(30).state == "ready"
        replay = curl.replace("http://127.0.0.1:8080", candidate.base_url())
        subprocess.run(["bash", "-c", replay + " --max-time 10"], capture_output=True, timeout=30)
        deadline = time.monotonic() + 10
        while candidate.state().get("Running") and time.monotonic() < deadline:
            time.sleep(0.1)
        state = candidate.state()
        assert not state.get("Running") and state.get("ExitCode") == 70, state
    finally:
        candidate.remove()
