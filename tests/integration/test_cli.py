"""The command's contract: exit codes, one-line errors that say what to do, a report in every case,
nothing left behind after Ctrl-C in any phase, after a kill -9 (the next run reaps it) or when the
Docker daemon stops answering; the pytest entry points."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from conformance.candidate import engine, labels
from conformance.contract.catalogue import IDS
from tests.helpers import REPO, finish, leftovers, owner_of, start_cli, wait_for_output
from tests.dockerproxy import DockerProxy


def test_list_requirements(run_cli):
    out = subprocess.run([sys.executable, "-m", "conformance.cli", "--list-requirements"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0
    rows = [line for line in out.stdout.splitlines() if not line.startswith(" ")]
    assert [line.split()[0] for line in rows] == list(IDS)
    checks = [line.split("check: ")[1] for line in out.stdout.splitlines() if line.startswith(" ")]
    assert len(checks) >= len(IDS) and "suite/test_probes.py::test_health_answers_200" in checks
    for check in checks:  # each names a file of the suite and a function in it
        path, function = check.split("::")
        assert f"def {function}(" in (REPO / "conformance" / path).read_text()


def test_no_image_is_a_usage_error():
    out = subprocess.run([sys.executable, "-m", "conformance.cli"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "give the image to check" in out.stderr


def test_no_docker_daemon_exits_2_with_a_report(run_cli):
    run = run_cli("anything:v1", env={"DOCKER_HOST": "unix:///nonexistent/docker.sock"})
    assert run.returncode == 2
    assert "cannot reach the Docker daemon at unix:///nonexistent/docker.sock" in run.stdout + run.stderr
    assert run.report["verdict"] == "fail"
    assert {r["status"] for r in run.report["requirements"]} == {"error"}
    assert "start it" in run.report["requirements"][0]["evidence"][0]


def test_missing_image_exits_2_and_never_pulls(run_cli):
    run = run_cli("agent-conformance/no-such-image:v0")
    assert run.returncode == 2
    message = [line for line in (run.stdout + run.stderr).splitlines() if "not in the local Docker engine" in line]
    assert message and "never pulls" in message[0]
    assert [r["id"] for r in run.report["requirements"]] == list(IDS)
    assert run.report["image"]["ref"] == "agent-conformance/no-such-image:v0"


def test_bad_agent_config_is_refused_before_any_container(run_cli, tmp_path, built_samples):
    config = tmp_path / "agent.toml"
    config.write_text("[[endpoints]]\nmethod = 'POST'\npath = 'chat'\n")
    run = run_cli(built_samples["reference"].tag, "--agent-config", str(config))
    assert run.returncode == 2
    assert f"{config}: endpoints[0].path: expected a path starting with \"/\"" in run.stdout + run.stderr
    assert {r["status"] for r in run.report["requirements"]} == {"error"}


def test_wrong_platform_is_a_verdict_not_a_pull(built_samples, run_cli):
    run = run_cli(built_samples["broken/wrong-platform"].tag)
    assert run.returncode == 1
    assert "linux/arm64" in run.requirement("IMAGE-PLATFORM")["evidence"][0]
    assert "see IMAGE-PLATFORM" in run.requirement("READY-200")["evidence"][0]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_interrupt_removes_containers_and_writes_the_report(sig, built_samples, tmp_path, docker_client):
    sample = built_samples["broken/slow-start"]  # 5 s to ready: time to interrupt it mid-wait
    started = time.monotonic()
    process = start_cli([sample.tag, "--agent-config", str(sample.agent_config)], tmp_path)
    owner = owner_of(process)
    deadline = time.monotonic() + 60
    while not leftovers(docker_client, owner):
        assert process.poll() is None and time.monotonic() < deadline, "no candidate appeared"
        time.sleep(0.1)
    process.send_signal(sig)
    run = finish(process, tmp_path, started, docker_client, timeout_s=30)  # asserts nothing is left
    assert run.returncode == 2
    assert run.report is not None
    interrupted = [r for r in run.report["requirements"] if "interrupted" in " ".join(r["evidence"])]
    assert interrupted, run.explain()


def _interrupted(run) -> None:
    assert run.returncode == 2 and run.report is not None, run.explain()
    assert [r for r in run.report["requirements"] if "interrupted" in " ".join(r["evidence"])], run.explain()


# Markers: pytest -v names a check as it starts. The fuzz campaign runs in the setup of the first;
# the lifecycle checks wait on the runs in the background (shell-form-cmd: 12 s per SIGTERM).
PHASES = {
    "fuzzing": ("reference", ["--fuzz-examples", "100000"], "[budgets]\nfuzz_s = 60\n",
                "test_fuzz.py::test_generated_requests_are_handled"),
    "lifecycle": ("broken/shell-form-cmd", ["--fuzz-examples", "0"], "", "test_lifecycle.py::"),
}


@pytest.mark.parametrize("phase", list(PHASES))
def test_ctrl_c_in_a_later_phase_ends_the_run_promptly_and_removes_everything(phase, built_samples, tmp_path,
                                                                               docker_client):
    name, options, budgets, marker = PHASES[phase]
    config = tmp_path / "agent.toml"
    config.write_text(budgets)
    started = time.monotonic()
    process = start_cli([built_samples[name].tag, "--agent-config", str(config), *options, "--", "-v"], tmp_path)
    wait_for_output(process, marker, timeout_s=120)
    time.sleep(1.0)  # well inside the phase
    signalled = time.monotonic()
    process.send_signal(signal.SIGINT)
    run = finish(process, tmp_path, started, docker_client, timeout_s=60)  # asserts nothing is left
    _interrupted(run)
    assert time.monotonic() - signalled < 20, f"{time.monotonic() - signalled:.1f} s from Ctrl-C to exit"


def test_a_killed_run_is_cleaned_up_by_the_next_one(built_samples, tmp_path, docker_client, run_cli):
    """kill -9 leaves its container, masking volume and internal network; the next run reaps them."""
    sample = built_samples["broken/declares-volume"]
    process = start_cli([sample.tag, "--no-egress"], tmp_path)
    owner = owner_of(process)
    deadline = time.monotonic() + 60
    while not _all_kinds(left := leftovers(docker_client, owner)):
        assert process.poll() is None and time.monotonic() < deadline, f"not all made: {left}"
        time.sleep(0.1)
    process.kill()
    process.wait(10)
    process.rss.stop()
    assert _all_kinds(leftovers(docker_client, owner))
    run = run_cli(sample.tag, "--", "-k", "test_image_is_linux_amd64")  # starts no container of its own
    assert run.returncode == 0, run.explain()
    assert leftovers(docker_client, owner) == []


def _all_kinds(names: list[str]) -> bool:
    """A container ("/name"), a masking volume and the run's internal network."""
    return (any(n.startswith("/") for n in names) and any(n.endswith("-no-egress") for n in names)
            and any("-vol" in n and not n.startswith("/") for n in names))


CALL_S, SLOW_CALL_S = 5, 20  # the run's Docker timeouts (defaults 15 and 60 s), kept short for the test


@pytest.mark.parametrize("failure", ["hang", "refuse"])
def test_a_docker_daemon_that_stops_answering_ends_the_run_with_a_message(failure, built_samples, tmp_path,
                                                                          docker_client):
    """A proxy in front of the daemon is cut while the candidate starts: the run stops at once with
    exit 2, a report that says why, and the next run removes what this one could not."""
    proxy = DockerProxy()
    try:
        started = time.monotonic()
        process = start_cli([built_samples["reference"].tag], tmp_path,
                            env={"DOCKER_HOST": proxy.url, "AGENT_CONFORMANCE_DOCKER_CALL_TIMEOUT": str(CALL_S),
                                 "AGENT_CONFORMANCE_DOCKER_TIMEOUT": str(SLOW_CALL_S)})
        owner = owner_of(process)
        deadline = time.monotonic() + 60
        while not _running(docker_client, owner):
            assert process.poll() is None and time.monotonic() < deadline, "no candidate started"
            time.sleep(0.05)
        time.sleep(0.5)  # most likely the run waits for /ready now (an ordinary call is cut, not a slow one)
        cut = time.monotonic()
        getattr(proxy, failure)()
        run = finish(process, tmp_path, started, docker_client, timeout_s=120, left_allowed=True)
        took = time.monotonic() - cut
    finally:
        proxy.close()
    assert run.returncode == 2, run.explain()
    said = f"the Docker daemon at {proxy.url} stopped answering"
    assert said in run.stdout, run.explain()
    # One call's timeout (a slow one at worst) and a ping: every later call fails at once.
    assert took < SLOW_CALL_S + engine.PING_TIMEOUT_S + 15, f"{took:.1f} s from the cut to the exit"
    unreached = [r for r in run.report["requirements"] if r["status"] == "error"]
    assert unreached and all(said in " ".join(r["evidence"]) for r in unreached), run.explain()
    assert run.report["verdict"] == "fail"
    labels.reap_orphans(docker_client)  # what the next run does first
    assert leftovers(docker_client, owner) == []


def _running(client, owner: str) -> bool:
    filters = {"label": [f"{labels.LABEL_OWNER}={owner}"], "status": "running"}
    return bool(client.api.containers(filters=filters))


def test_xdist_workers_share_the_no_egress_network_and_clean_up(built_samples, run_cli):
    """Under --no-egress every code path reaches the candidate at its address, in each worker."""
    run = run_cli(built_samples["reference"].tag, "--no-egress", "--", "-n", "2")
    assert run.returncode == 0, run.explain()
    assert run.report["verdict"] == "pass"
    assert "READY-200" not in run.ids("skip")


def test_pytest_image_option_from_the_repo_root(built_samples, tmp_path, docker_client):
    report = tmp_path / "r.json"
    out = subprocess.run([sys.executable, "-m", "pytest", f"--image={built_samples['reference'].tag}",
                          f"--report-json={report}", "-q"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:]
    assert "agent conformance" in out.stdout and "Verdict: PASS" in out.stdout
    assert json.loads(report.read_text())["verdict"] == "pass"


def test_pyargs_from_another_directory(built_samples, tmp_path):
    out = subprocess.run([sys.executable, "-m", "pytest", "--pyargs", "conformance",
                          f"--image={built_samples['reference'].tag}", "-q", "-p", "no:cacheprovider"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:]
    assert "Verdict: PASS" in out.stdout


def test_without_image_the_suite_is_not_collected(tmp_path):
    out = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", str(REPO / "conformance" / "suite")],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert "no tests collected" in out.stdout or out.returncode == 5, out.stdout


@pytest.mark.parametrize("option, path, says", [
    ("--report-html", "/sys/agent-conformance/report.html", "cannot be written"),  # a read-only filesystem
    ("--report-md", ".", "is a folder; give a file name"),
])
def test_an_unwritable_report_path_is_refused_before_any_container(option, path, says, built_samples, tmp_path,
                                                                    docker_client):
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "conformance.cli", built_samples["reference"].tag, option, path],
                               cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 2
    lines = [line for line in (out + err).splitlines() if line.strip()]
    assert lines == [f"ERROR: {option} {path}: {lines[0].split(': ', 2)[2]}"] and says in lines[0], lines
    assert time.monotonic() - started < 30  # refused up front, not after a run
    assert not leftovers(docker_client, owner_of(process))


def test_a_report_asked_for_without_an_image_is_refused(tmp_path):
    out = subprocess.run([sys.executable, "-m", "pytest", "--report-html", str(tmp_path / "r.html"), "-p",
                          "no:cacheprovider", str(REPO / "tests" / "unit" / "test_curl.py")],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 4  # pytest's usage error
    assert "--report-html needs --image: there is no conformance run to report" in out.stderr
    assert not (tmp_path / "r.html").exists()
