"""What the command's start-up does not import: httpx's own command line.

`import httpx` imports `httpx._main`, its `httpx` command, which imports click, rich and pygments
whenever they are installed (rich and click come with common tools, import-linter among them):
30–60 ms of every run's start-up, before the first container, for a command the suite never runs.
`agent-conformance` puts a stand-in there first; calling it loads the real one. `pytest --image=…`
in someone else's session is left alone.
"""

from __future__ import annotations

import sys
import types

_HTTPX_CLI = "httpx._main"


def skip_httpx_cli() -> None:
    """Before httpx is first imported; nothing if it already is."""
    if "httpx" in sys.modules or _HTTPX_CLI in sys.modules:
        return
    stand_in = types.ModuleType(_HTTPX_CLI, "stand-in for httpx's command line (conformance.startup_imports)")

    def main(*args, **kwargs):
        if sys.modules.get(_HTTPX_CLI) is stand_in:
            del sys.modules[_HTTPX_CLI]
        from httpx._main import main as real

        return real(*args, **kwargs)

    stand_in.main = main
    sys.modules[_HTTPX_CLI] = stand_in
