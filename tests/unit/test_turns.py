"""Containers started in turns, in the order of the run's longest paths
(conformance.lifecycle.turns): real threads, no Docker."""

from __future__ import annotations

import threading
import time

from conformance.lifecycle.session import _turn_order
from conformance.lifecycle.turns import Turns


def _run_in_turns(turns: Turns, names: list[str], hold_s: float = 0.05) -> dict[str, float]:
    """Each name in a thread of its own, started in the reverse order: when each began its start."""
    began: dict[str, float] = {}
    zero = time.monotonic()

    def start(name: str) -> None:
        turns.wait(name)
        began[name] = time.monotonic() - zero
        time.sleep(hold_s)  # the engine's start
        turns.done(name)

    threads = [threading.Thread(target=start, args=(name,)) for name in reversed(names)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    return began


def test_a_stage_starts_together_once_the_one_before_is_started():
    began = _run_in_turns(Turns([("platform", "restart"), ("writable",)]), ["platform", "restart", "writable"])
    assert began["platform"] < 0.04 and began["restart"] < 0.04  # together
    assert began["writable"] >= 0.05  # after both were started


def test_one_name_a_stage_runs_one_after_the_other():
    began = _run_in_turns(Turns([("a",), ("b",), ("c",)]), ["a", "b", "c"])
    assert began["a"] < began["b"] < began["c"] and began["c"] >= 0.1


def test_a_name_in_no_stage_does_not_wait():
    turns = Turns([("platform", "restart"), ("writable",)])
    started = time.monotonic()
    turns.wait("no-env")  # the diagnosis' trials go at once
    turns.wait("restart")  # the first stage waits for nobody
    assert time.monotonic() - started < 0.1


def test_a_start_that_never_says_it_is_done_delays_the_next_stage_by_the_bound_only():
    turns = Turns([("platform",), ("restart",)], wait_s=0.2)
    started = time.monotonic()
    turns.wait("restart")  # "platform" never done
    assert 0.15 <= time.monotonic() - started < 1.0


def test_the_end_releases_every_wait():
    turns = Turns([("platform",), ("writable",)], wait_s=30)
    released = threading.Event()
    waiter = threading.Thread(target=lambda: (turns.wait("writable"), released.set()))
    waiter.start()
    time.sleep(0.05)
    assert not released.is_set()
    turns.end()  # the session closes
    assert released.wait(2)
    waiter.join(2)


def test_the_platform_and_the_restart_trial_go_first_then_the_others():
    assert _turn_order(("restart", "writable")) == (("platform", "restart"), ("writable",))
    assert _turn_order(("writable",)) == (("platform",), ("writable",))
    assert _turn_order(("restart",)) == (("platform", "restart"),)
    assert _turn_order(()) == (("platform",),)
