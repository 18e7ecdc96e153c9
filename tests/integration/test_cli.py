"""The command's contract: exit codes, one-line errors that say what to do, a report in every case,
nothing left behind after Ctrl-C; the pytest entry points."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from conformance.requirements import IDS
from tests.conftest import REPO, finish, leftovers, start_cli


def test_list_requirements(run_cli):
    out = subprocess.run([sys.executable, "-m", "conformance.cli", "--list-requirements"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0
    assert [line.split()[0] for line in out.stdout.splitlines()] == list(IDS)


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
    owner = f"{__import__('socket').gethostname()}:{process.pid}"
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


def test_xdist_workers_each_get_a_candidate_and_clean_up(built_samples, run_cli):
    run = run_cli(built_samples["reference"].tag, "--", "-n", "2")
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
