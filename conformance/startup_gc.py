"""Python's cyclic garbage collector paused while a run starts, for the command only.

A run imports about 1,500 modules before its first container can start (pytest, the plugin, the
checks, Docker's client, httpx); each import leaves objects the collector then walks again and
again, and none of them is garbage. Measured on the reference: collections cost 0.2 s of the
main process's CPU in a run, most of it before the first container and 0.1 s in the full
collection pytest makes at the end; paused until the checks are collected, then everything
imported moved out of the collector's sight (`gc.freeze`), the run's first container starts
0.15–0.2 s sooner and its end comes 0.1 s sooner.

`pytest --image=…` (the plugin in someone else's session) is left alone: only `agent-conformance`
pauses, and the pause ends when collection ends (when the tests start, under an xdist controller,
which collects nothing), or with the session if it never does. The fuzz phase's pregenerating
child pauses it likewise while it imports Hypothesis (`collector_paused`): 7 % of its CPU.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """No collection while the block imports; what it made is then frozen (never walked again)."""
    pause = StartupPause()
    pause.pause()
    try:
        yield
    finally:
        pause.resume()


class StartupPause:
    """`pause()` before pytest starts; `resume()` once the items are collected (`resumed_by`)."""

    def __init__(self) -> None:
        self.paused = False

    def pause(self) -> None:
        if gc.isenabled():  # a caller that turned it off itself keeps it off
            gc.disable()
            self.paused = True

    def resume(self) -> None:
        if self.paused:
            gc.freeze()  # what start-up made stays: no later collection walks it again
            gc.enable()
            self.paused = False


def resumed_by(pause: StartupPause):
    """The pytest plugin that ends the pause: once collected; when the tests start (an xdist
    controller collects nothing, its workers do, and they never pause; its test loop is the
    session, so this one goes first); at the end if neither came. pytest imported here, late."""
    import pytest

    class Resume:
        def pytest_collection_finish(self, session) -> None:
            pause.resume()

        @pytest.hookimpl(tryfirst=True)
        def pytest_runtestloop(self, session) -> None:
            pause.resume()

        def pytest_unconfigure(self, config) -> None:
            pause.resume()  # collection failed or was interrupted

    return Resume()
