"""Pure logic of running wherever a Docker API answers: how candidates are reached, which view of
a container's /proc is trusted, PID 1 from the engine's `top`, and what the engine is called."""

from __future__ import annotations

from conformance.candidate import engine, inside, reach, signals, sockets
from conformance.report import terminal

CONTAINER = "f" * 64


# -- reaching the candidate ----------------------------------------------------------------------
def test_a_local_socket_publishes_on_loopback_only():
    for environ in ({}, {"DOCKER_HOST": "unix:///var/run/docker.sock"}, {"DOCKER_HOST": "tcp://127.0.0.1:2375"}):
        got = reach.resolve(environ, in_container=False)
        assert (got.publish_ip, got.host, got.routable) == ("127.0.0.1", "127.0.0.1", False)


def test_a_remote_daemon_publishes_on_its_host_and_is_reached_there():
    got = reach.resolve({"DOCKER_HOST": "tcp://10.1.2.3:2375"}, in_container=False)
    assert (got.publish_ip, got.host, got.remote, got.routable) == ("0.0.0.0", "10.1.2.3", True, False)
    assert "10.1.2.3" in got.how
    assert reach.resolve({"DOCKER_HOST": "ssh://me@build-box"}, in_container=False).host == "build-box"
    # GitLab's docker:dind service: the suite is in a container, and the daemon is remote all the same.
    assert reach.resolve({"DOCKER_HOST": "tcp://docker:2375"}, in_container=True).host == "docker"


def test_testcontainers_host_override_wins():
    got = reach.resolve({"DOCKER_HOST": "unix:///var/run/docker.sock", "TESTCONTAINERS_HOST_OVERRIDE": "172.17.0.1"},
                        in_container=True)
    assert (got.publish_ip, got.host) == ("0.0.0.0", "172.17.0.1")


def test_a_container_marker_does_not_decide_when_the_bridge_gateway_is_here():
    # A CI machine may itself be a container (/.dockerenv) that runs the daemon.
    got = reach.resolve({}, gateway_here=True)
    assert (got.publish_ip, got.host) == ("127.0.0.1", "127.0.0.1")
    assert got.routable  # on the daemon's host: another port of a container can be tried at its address


def test_in_a_container_beside_the_socket_the_candidate_is_reached_at_its_own_address():
    got = reach.resolve({"DOCKER_HOST": "unix:///var/run/docker.sock"}, in_container=True)
    assert got.by_address and got.routable and not got.remote
    assert reach.resolve({"AGENT_CONFORMANCE_REACH": "published"}, in_container=True) == reach.LOCAL
    assert reach.resolve({"AGENT_CONFORMANCE_REACH": "address"}, in_container=False).by_address


# -- which /proc is the container's --------------------------------------------------------------
def test_host_proc_is_trusted_only_when_the_pid_is_the_containers(tmp_path):
    (tmp_path / "42").mkdir()
    (tmp_path / "42" / "cgroup").write_text(f"12:memory:/docker/{CONTAINER}\n11:pids:/docker/{CONTAINER}\n")
    (tmp_path / "43").mkdir()
    (tmp_path / "43" / "cgroup").write_text("0::/user.slice/session-3.scope\n")  # another process, same number
    assert inside.host_proc_is_the_daemons(CONTAINER, 42, tmp_path)
    assert not inside.host_proc_is_the_daemons(CONTAINER, 43, tmp_path)
    assert not inside.host_proc_is_the_daemons(CONTAINER, 44, tmp_path)  # not in this PID namespace
    assert not inside.host_proc_is_the_daemons(CONTAINER, 0, tmp_path)


def test_socket_tables_read_one_after_the_other():
    tcp = ("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
           "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1\n")
    tcp6 = ("  sl  local_address                         remote_address                        st tx_queue\n"
            "   0: 00000000000000000000000000000000:1F40 00000000000000000000000000000000:0000 0A 0\n")
    assert sockets.parse_tables((tcp + tcp6).encode()) == [sockets.Listener(8000, "::"),
                                                            sockets.Listener(8080, "127.0.0.1")]
    assert sockets.parse_tables(b"") == []


# -- PID 1 from the engine's top -----------------------------------------------------------------
def test_pid1_from_top_reads_the_masks_of_the_containers_first_process():
    top = {"Titles": ["PID", "CAUGHT", "IGNORED", "COMMAND"],
           "Processes": [["900", "0000000000000000", "0000000000004000", "/bin/sh -c python agent.py"],
                         ["901", "0000000180004002", "0000000000000000", "python agent.py"]]}
    shell = signals.from_top(top, 900)
    assert shell == signals.Pid1("/bin/sh -c python agent.py", catches_term=False, ignores_term=True)
    python = signals.from_top(top, 901)
    assert python.catches_term and not python.ignores_term and python.command == "python agent.py"
    assert signals.from_top(top, 902) is None


def test_pid1_from_a_top_without_the_masks_is_unknown():
    # Podman's top has its own descriptors; busybox's ps has no masks.
    assert signals.from_top({"Titles": ["USER", "PID", "COMMAND"], "Processes": [["root", "1", "sh"]]}, 1) is None
    assert signals.from_top({"Titles": ["PID", "CAUGHT", "IGNORED", "COMMAND"],
                             "Processes": [["1", "-", "-", "sh"]]}, 1) is None


def test_pid1_from_proc_text():
    status = "Name:\tpython\nSigIgn:\t0000000000000000\nSigCgt:\t0000000000004000\n"
    assert signals.from_proc(status, b"python\0agent.py\0") == signals.Pid1("python agent.py", True, False)


# -- the engine ----------------------------------------------------------------------------------
def test_api_versions_compare_as_numbers():
    assert engine._older("1.29", engine.MIN_API_VERSION)
    assert not engine._older("1.41", engine.MIN_API_VERSION)
    assert not engine._older("1.100", "1.41")


def test_unreachable_engines_get_advice_for_their_kind():
    cause, advice = engine.unreachable("('Connection aborted.', FileNotFoundError(2, 'No such file or directory'))",
                                       "unix:///run/podman/podman.sock")
    assert cause == "no socket there" and "podman system service" in advice
    _, advice = engine.unreachable("Connection refused", "unix:///var/run/docker.sock")
    assert "dockerd" in advice
    _, advice = engine.unreachable("Authentication failed.", "ssh://me@build-box")
    assert "ssh" in advice


def test_the_engine_line_names_the_engine_and_the_way_in():
    report = {"engine": {"kind": "Podman", "version": "4.3.1", "api_version": "1.41", "os": "debian",
                         "rootless": True, "address": "unix:///run/user/1000/podman/podman.sock",
                         "reached": "at 127.0.0.1 through a port the engine published there"}}
    line = terminal.engine_line(report)
    assert line.startswith("Engine: Podman 4.3.1 (API 1.41, debian, rootless) at unix:///run/user/1000/")
    assert line.endswith("candidates reached at 127.0.0.1 through a port the engine published there.")
    assert terminal.engine_line({"engine": {}}) == "" and terminal.engine_line({}) == ""
