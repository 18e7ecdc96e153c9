"""The first round's requests, generated in a process of its own from the moment the run starts.

Generating costs about 2.5 ms of CPU an example, and in the suite's process it holds the same
interpreter lock as the sending and judging: 500 examples are more than a second added to the
fuzz phase. The requests depend on nothing the candidate says (the declared endpoints, the seed,
the number of examples), so a child process makes them while the candidates boot, on a core the
suite's process does not use, and hands them over as they come (one pickle each on its stdout).

The child generates what `generation.generate` generates in the suite's process for the same
seed, so a round replays its answers from the memo as before: both make Hypothesis forget the
literals it mines from local source (`generation.same_everywhere`).

    python -m conformance.fuzz.pregenerated   (reads {"endpoints": …, "examples": N, "seed": S} on stdin)
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

from ..contract.agent_config import Endpoint
from ..startup_gc import collector_paused
from .generation import Generation, generate, strategy_for

EXIT_WAIT_S = 30.0  # for the child to exit once its output ended; a backstop: `finish` kills it
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


class Pregenerated(Generation):
    """A `Generation` whose requests a child process makes. If the child fails, what it gave is
    kept and `failed` is True: the campaign's round then generates the rest itself."""

    def __init__(self, endpoints: tuple[Endpoint, ...], examples: int, seed: int):
        self.key = (_endpoints_doc(endpoints), examples, seed)  # what the campaign checks before using it
        # The package this process runs, whatever the working directory or how it was installed.
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (_PACKAGE_ROOT, os.environ.get("PYTHONPATH"))))}
        self._child = subprocess.Popen([sys.executable, "-m", __name__], stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        try:
            self._child.stdin.write(json.dumps({"endpoints": self.key[0], "examples": examples,
                                                "seed": seed}).encode())
            self._child.stdin.close()
        except OSError:
            pass  # it died already: `_run` finds its stdout closed
        super().__init__(None, examples, seed)

    def matches(self, endpoints: tuple[Endpoint, ...], examples: int, seed: int) -> bool:
        return self.key == (_endpoints_doc(endpoints), examples, seed)

    def _produce(self, strategy, examples: int, seed: int) -> bool:
        while True:
            try:
                request = pickle.load(self._child.stdout)
            except (EOFError, pickle.UnpicklingError, OSError):
                break
            self._add(request)
        return self._child.wait(EXIT_WAIT_S) == 0 and len(self.requests) == examples

    def wanted_now(self) -> None:
        """The campaign waits on its requests from now on (`_ahead_again`)."""
        if self._child.poll() is None:
            _ahead_again(self._child.pid)

    def finish(self, timeout_s: float = 10.0) -> None:
        if self._child.poll() is None:
            self._child.kill()
        super().finish(timeout_s)
        self._child.wait(timeout_s)
        self._child.stdout.close()


class FirstRound:
    """A session's fuzz seed, chosen once, and its first round's requests once `start`ed: the
    campaign `take`s them; `close` ends a child nobody took (its session is over)."""

    def __init__(self, seed: int):
        self.seed = seed
        self._pregenerated: Pregenerated | None = None

    def start(self, endpoints: tuple[Endpoint, ...], examples: int) -> None:
        try:
            self._pregenerated = Pregenerated(endpoints, examples, self.seed)
        except (OSError, TypeError, ValueError):  # no child (or a body JSON cannot carry): the campaign generates
            self._pregenerated = None

    def take(self) -> Pregenerated | None:
        taken, self._pregenerated = self._pregenerated, None
        if taken is not None:
            taken.wanted_now()
        return taken

    def close(self) -> None:
        if self._pregenerated is not None:
            self.take().finish()


def _endpoints_doc(endpoints: tuple[Endpoint, ...]) -> list[dict]:
    return [{"method": e.method, "path": e.path, "json": e.json} for e in endpoints]


def _behind_everything() -> None:
    """On idle CPU only (Linux's SCHED_IDLE), else at a lower priority: the candidates boot through
    thousands of file-system round trips (fuse-overlayfs), each waking a process; a generator at
    nice 10 still delayed each wake-up, and the boots the run waits on took longer."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        if hasattr(os, "nice"):
            os.nice(10)


def _ahead_again(pid: int) -> None:
    """Back to the ordinary policy once its requests are what the run waits on (best effort: an
    unprivileged process may not raise another's priority; it then stays on idle CPU)."""
    try:
        os.sched_setscheduler(pid, os.SCHED_OTHER, os.sched_param(0))
    except (AttributeError, OSError):
        pass


def _main() -> int:
    _behind_everything()  # its requests are wanted only once the candidates are up
    spec = json.load(sys.stdin)
    endpoints = tuple(Endpoint(e["method"], e["path"], e["json"]) for e in spec["endpoints"])
    out = sys.stdout.buffer

    def emit(request) -> None:
        try:
            pickle.dump(request, out, protocol=pickle.HIGHEST_PROTOCOL)
            out.flush()
        except BrokenPipeError:  # nobody reads any more (the run ended): at once, not as a failing example
            os._exit(1)

    with collector_paused():  # Hypothesis's import: see startup_gc
        strategy = strategy_for(endpoints)
    generate(strategy, spec["examples"], spec["seed"], emit)
    return 0


if __name__ == "__main__":
    sys.exit(_main())
