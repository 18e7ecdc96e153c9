"""The lifecycle checks' evidence, on real containers of the sample agents: the agent's own words
for a failure, the stand-in that keeps the other checks useful, the cause of a slow SIGTERM; and
the pieces underneath (overlay upper dir vs `docker diff`, SIGTERM measured) against Docker."""

from __future__ import annotations

import time
import uuid

import pytest

from conformance.candidate import changes, signals
from conformance.candidate.container import Candidate
from conformance.candidate.engine import inspect_image
from conformance.lifecycle import variants


def evidence(run, rid: str) -> str:
    return "\n".join(run.requirement(rid)["evidence"])


def test_uv_run_failure_is_told_in_uv_s_words(built_samples, run_cli):
    run = run_cli(built_samples["broken/uv-run-at-start"].tag)
    said = evidence(run, "READONLY-ROOTFS")
    assert "exited with code 2" in said and "Read-only file system" in said and "/root/.cache/uv" in said
    assert "uv run" in said  # the fix names the cause
    # STARTUP-TIME is not a second failure, and the other checks say where they ran.
    assert run.requirement("STARTUP-TIME")["status"] == "error" and "(see READONLY-ROOTFS)" in evidence(run, "STARTUP-TIME")
    assert "stand-in on a writable root" in evidence(run, "NEGOTIATE-JSON")
    assert run.requirement("NEGOTIATE-JSON")["status"] == "pass"


def test_in_cluster_mode_is_pinned_on_the_reserved_variables(built_samples, run_cli):
    run = run_cli(built_samples["broken/kubernetes-in-cluster"].tag)
    said = evidence(run, "PLATFORM-ENV")
    assert "KUBERNETES_SERVICE_HOST" in said and "serviceaccount/token" in said and "in-cluster" in said
    assert "10.96.0.1" not in said  # names, never values
    assert "stand-in without the reserved variables" in evidence(run, "HEALTH-200")


def test_a_write_per_request_shows_the_answers_that_break(built_samples, run_cli):
    run = run_cli(built_samples["broken/log-next-to-code"].tag)
    said = evidence(run, "READONLY-ROOTFS")
    assert "POST /chat (Accept: application/json) answered 500" in said and "conversations.log" in said
    assert "added /app/conversations.log" in evidence(run, "WRITES-ONLY-TMP")


def test_shell_form_is_named_as_the_cause_of_a_slow_stop(built_samples, run_cli):
    run = run_cli(built_samples["broken/shell-form-cmd"].tag)
    said = evidence(run, "GRACEFUL-SHUTDOWN")
    assert "still running 12 s later" in said and "shell-form start command" in said
    assert "PID 1: /bin/sh -c python agent.py — has no SIGTERM handler" in said
    # One stop (mid-stream), waited out once: the restart follows it.
    stops = [line for line in said.splitlines() if "s later; killed" in line or "s later with code" in line]
    assert len(stops) == 1 and "POST /chat" in stops[0] and "still running 12 s later; killed" in stops[0]
    assert "while idle" not in said


def test_one_container_is_replaced_stopped_mid_stream_and_restarted(built_samples, run_cli):
    run = run_cli(built_samples["reference"].tag, "--fuzz-examples", "0")
    said = evidence(run, "GRACEFUL-SHUTDOWN")
    assert "SIGTERM while POST /chat streamed: exited" in said and "while idle" not in said
    assert "the stream ended cleanly" in said
    restarted = evidence(run, "STATELESS-RESTART")
    assert "fresh container: ready" in restarted and "restarted (SIGTERM, then started again" in restarted


def test_a_death_late_in_the_run_shows_exit_code_and_log(built_samples, run_cli):
    run = run_cli(built_samples["broken/dies-after-requests"].tag)
    said = evidence(run, "STAYS-UP")
    assert "exited with code 3" in said and "FATAL: connection pool exhausted" in said


@pytest.fixture
def reference(built_samples, docker_client):
    image = inspect_image(docker_client, built_samples["reference"].tag)
    made: list[Candidate] = []

    def make(name: str, image_ref: str | None = None) -> Candidate:
        shown = inspect_image(docker_client, image_ref) if image_ref else image
        candidate = Candidate(docker_client, shown, f"lifecycle-test-{uuid.uuid4().hex[:8]}", variants.constraints_for(name))
        made.append(candidate)
        return candidate.start()

    yield make
    for candidate in made:
        candidate.remove()


def test_upper_dir_reads_what_docker_diff_reports(reference):
    candidate = reference("writable")
    candidate.wait_ready(30)  # its own start-up writes (bytecode caches) done before the two reads
    candidate.container.exec_run(["sh", "-c", "mkdir -p /root/.cache/x && echo 1 > /root/.cache/x/f && "
                                              "echo >> /etc/passwd && rm /etc/motd; touch /tmp/ignored"])
    candidate.reload()
    ours = sorted((c["Path"], c["Kind"]) for c in changes.container_changes(candidate.container))
    assert ours == sorted((c["Path"], c["Kind"]) for c in candidate.container.diff())
    assert ("/root/.cache/x/f", 1) in ours and ("/etc/motd", 2) in ours


def test_sigterm_is_measured_and_pid1_read(reference, built_samples):
    graceful = reference("platform")
    graceful.wait_ready(30)
    stop = signals.sigterm(graceful.container, "while idle", graceful.pid1(), signals.KUBERNETES_GRACE_S)
    assert stop.graceful and stop.exit_code == 0 and stop.pid1.command == "python agent.py" and stop.pid1.catches_term

    stubborn = reference("platform", built_samples["broken/shell-form-cmd"].tag)
    stubborn.wait_ready(30)
    started = time.monotonic()
    stop = signals.sigterm(stubborn.container, "while idle", stubborn.pid1(), signals.KUBERNETES_GRACE_S)
    assert stop.elapsed_s is None and stop.exit_code == 137  # killed by us at GIVE_UP_S
    assert signals.give_up_s(signals.KUBERNETES_GRACE_S) <= time.monotonic() - started < signals.give_up_s(signals.KUBERNETES_GRACE_S) + 5
    assert stop.pid1.command.startswith("/bin/sh -c") and stop.pid1.catches_term is False
