"""Containers started in turns, in the order of the run's longest paths.

The engine starts containers at once no faster than one after the other beyond two or so (on
fuse-overlayfs: 0.85 s each for three at once, 0.4 s each in turn), so starting every container
together only delays the ones the run waits on most. `Turns(stages)`: the names of one stage start
together; `wait(name)` returns once every name of the stages before its own is `done`; a name in
no stage does not wait. Every wait is bounded: a start that never says it is done (a bug, or a
hung engine call) delays the next stage by `wait_s` at most.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable


class Turns:
    def __init__(self, stages: Iterable[Iterable[str]] = (), wait_s: float = 10.0):
        self.stages = tuple(tuple(stage) for stage in stages)
        self.wait_s = wait_s
        self._done: set[str] = set()
        self._changed = threading.Condition()

    def _before(self, name: str) -> set[str] | None:
        """The names of the stages before `name`'s; None when it is in none."""
        before: set[str] = set()
        for stage in self.stages:
            if name in stage:
                return before
            before.update(stage)
        return None

    def wait(self, name: str) -> None:
        before = self._before(name)
        if not before:
            return
        with self._changed:
            self._changed.wait_for(lambda: before <= self._done, timeout=self.wait_s)

    def done(self, name: str) -> None:
        with self._changed:
            self._done.add(name)
            self._changed.notify_all()

    def end(self) -> None:
        """Nobody waits any more (the session is closing)."""
        with self._changed:
            self._done.update(name for stage in self.stages for name in stage)
            self._changed.notify_all()
