"""Containers started one after the other, in the order of the run's longest paths.

The engine makes and starts two containers at once no faster than one after the other (on
fuse-overlayfs: 0.85 s each at once, 0.4 s each in turn), so starting them together only delays
the one the run waits on most. `Turns(order)`: `wait(name)` returns once every name before it in
`order` is `done`; a name not in the order does not wait. Every wait is bounded: a start that never
says it is done (a bug, or a hung engine call) delays the next one by `wait_s` at most.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable


class Turns:
    def __init__(self, order: Iterable[str] = (), wait_s: float = 10.0):
        self.order = tuple(order)
        self.wait_s = wait_s
        self._done: set[str] = set()
        self._changed = threading.Condition()

    def wait(self, name: str) -> None:
        if name not in self.order:
            return
        before = set(self.order[: self.order.index(name)])
        with self._changed:
            self._changed.wait_for(lambda: before <= self._done, timeout=self.wait_s)

    def done(self, name: str) -> None:
        with self._changed:
            self._done.add(name)
            self._changed.notify_all()

    def end(self) -> None:
        """Nobody waits any more (the session is closing)."""
        with self._changed:
            self._done.update(self.order)
            self._changed.notify_all()
