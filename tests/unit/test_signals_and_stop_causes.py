"""SIGTERM handling read from /proc and the likely cause of a slow exit."""

from pathlib import Path

from conformance.candidate import signals
from conformance.lifecycle import stop_causes

STATUS = "Name:\tsh\nSigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\nSigCgt:\t{mask}\n"


def test_sigterm_handler_read_from_sigcgt():
    assert signals.catches_signal(STATUS.format(mask="0000000000010002")) is False  # dash: SIGINT, SIGCHLD
    assert signals.catches_signal(STATUS.format(mask="0000000180004002")) is True  # bit 15 set: SIGTERM
    assert signals.catches_signal("Name:\tx\n") is None


def test_an_ignored_sigterm_is_read_from_sigign_and_named():
    status = "SigIgn:\t0000000000004002\nSigCgt:\t0000000000000000\n"  # SIGINT and SIGTERM set to SIG_IGN
    assert signals.catches_signal(status, mask="SigIgn") is True and signals.catches_signal(status) is False
    causes = stop_causes.likely_causes(("python", "agent.py"), signals.Pid1("python agent.py", False, True),
                                    mid_stream=False, grace_s=10.0)
    assert "ignores SIGTERM" in causes[0] and "SIG_IGN" in causes[0]


def test_this_process_is_read_from_proc():
    pid1 = signals.read_pid1(int(Path("/proc/self").resolve().name))
    assert pid1.command and pid1.catches_term in (True, False)
    assert signals.read_pid1(2**22 + 1) == signals.Pid1("", None)


def test_shell_form_is_named_first_and_alone():
    causes = stop_causes.likely_causes(("/bin/sh", "-c", "python agent.py"), signals.Pid1("/bin/sh -c python agent.py", False),
                                    mid_stream=False, grace_s=10.0)
    assert len(causes) == 1 and "exec form" in causes[0]


def test_pid1_without_handler_and_slow_handler():
    bare = stop_causes.likely_causes(("python", "server.py"), signals.Pid1("python server.py", False), mid_stream=False, grace_s=10.0)
    assert "no SIGTERM handler" in bare[0]
    slow = stop_causes.likely_causes(("python", "agent.py"), signals.Pid1("python agent.py", True), mid_stream=True, grace_s=10.0)
    assert "with a stream in flight" in slow[0] and "graceful" in slow[0]
    unknown = stop_causes.likely_causes(("python", "agent.py"), signals.Pid1("", None), mid_stream=False, grace_s=10.0)
    assert "did not exit" in unknown[0]


def test_summary_says_how_it_ended():
    pid1 = signals.Pid1("python agent.py", True)
    assert signals.Shutdown("while idle", pid1, 0.31, 0).summary() == "SIGTERM while idle: exited 0.31 s later with code 0"
    killed = signals.Shutdown("while idle", pid1, None, 137)
    assert "still running 12 s later; killed" in killed.summary() and not killed.graceful
