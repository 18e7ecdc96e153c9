"""Containers started one at a time in the order of the run's longest paths
(conformance.lifecycle.turns): real threads, no Docker."""

from __future__ import annotations

import threading
import time

from conformance.lifecycle.session import _turn_order
from conformance.lifecycle.turns import Turns


def _run_in_turns(turns: Turns, names: list[str], hold_s: float = 0.02) -> list[str]:
    """Each name in a thread of its own, started in the reverse order: returns the order they ran in."""
    ran: list[str] = []
    lock = threading.Lock()

    def start(name: str) -> None:
        turns.wait(name)
        with lock:
            ran.append(name)
        time.sleep(hold_s)  # the engine's start
        turns.done(name)

    threads = [threading.Thread(target=start, args=(name,)) for name in reversed(names)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    return ran


def test_each_waits_for_those_before_it():
    assert _run_in_turns(Turns(["restart", "platform", "writable"]), ["restart", "platform", "writable"]) == [
        "restart", "platform", "writable"]


def test_a_name_outside_the_order_does_not_wait():
    turns = Turns(["restart", "platform"])
    started = time.monotonic()
    turns.wait("no-env")  # the diagnosis' trials go at once
    turns.wait("restart")  # the first waits for nobody
    assert time.monotonic() - started < 0.1


def test_a_start_that_never_says_it_is_done_delays_the_next_by_the_bound_only():
    turns = Turns(["restart", "platform"], wait_s=0.2)
    started = time.monotonic()
    turns.wait("platform")  # "restart" never done
    assert 0.15 <= time.monotonic() - started < 1.0


def test_the_end_releases_every_wait():
    turns = Turns(["restart", "platform", "writable"], wait_s=30)
    released = threading.Event()
    waiter = threading.Thread(target=lambda: (turns.wait("writable"), released.set()))
    waiter.start()
    time.sleep(0.05)
    assert not released.is_set()
    turns.end()  # the session closes
    assert released.wait(2)
    waiter.join(2)


def test_the_platform_goes_first_then_the_restart_trial_then_the_others():
    assert _turn_order(("restart", "writable")) == ("platform", "restart", "writable")
    assert _turn_order(("writable",)) == ("platform", "writable")
    assert _turn_order(()) == ("platform",)
