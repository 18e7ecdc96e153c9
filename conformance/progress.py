"""One line of progress on the terminal, rewritten in place, for the phases that take seconds
(waiting for readiness, the fuzz campaign, the lifecycle trials). The plugin decides whether it is
shown (stdout a terminal, not CI, not -q, not an xdist worker) and how it is written; everything
below it gets a plain callable and needs to know nothing of terminals. A leaf module."""

from __future__ import annotations

import time
from collections.abc import Callable

_ERASE = "\r\x1b[K"  # back to the start of the line and clear it (VT100, every terminal in use)


class Progress:
    """`progress(text)` shows `text`, at most every `interval_s`; `done()` erases the line.
    With no `write` it does nothing (progress is off)."""

    def __init__(self, write: Callable[[str], None] | None = None, interval_s: float = 0.25,
                 clock: Callable[[], float] = time.monotonic, width: int = 80):
        self._write = write
        self._width = max(20, width)
        self._interval_s = interval_s
        self._clock = clock
        self._shown_at: float | None = None
        self._on_line = False

    @property
    def enabled(self) -> bool:
        return self._write is not None

    def __call__(self, text: str) -> None:
        if self._write is None:
            return
        now = self._clock()
        if self._shown_at is not None and now - self._shown_at < self._interval_s:
            return
        self._shown_at = now
        if len(text) >= self._width:  # a wrapped line could not be rewritten in place
            text = text[: self._width - 2] + "…"
        # The first line starts below pytest's own (its dots), never over them.
        self._write(("" if self._on_line else "\n") + _ERASE + text)
        self._on_line = True

    def done(self) -> None:
        """Erase the line (the phase is over); the next progress shows at once."""
        if self._write is not None and self._on_line:
            self._write(_ERASE)  # pytest goes on writing on the cleared line
        self._on_line = False
        self._shown_at = None


def terminal_allowed(stdout_is_tty: bool, verbosity: int, environ: dict[str, str], worker: bool) -> bool:
    """Progress only where a person watches: a terminal, not CI (`CI` set, as every CI service does),
    not quiet (-q), not a pytest-xdist worker (its output is not the terminal)."""
    return stdout_is_tty and verbosity >= 0 and not environ.get("CI") and not worker and environ.get("TERM") != "dumb"
