"""Reading an agent's own log for the cause of a failure: the lines that name a read-only path or
a reserved variable, the last error line, and what usually causes it (a hint, never a verdict).

Pure functions over log lines: the checks decide; these only pick the agent's words to show.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

SHOWN = 8

_READ_ONLY = re.compile(r"read-only file system|\bEROFS\b|\[Errno 30\]|os error 30", re.I)
_ERROR = re.compile(
    r"^\s*(?:[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt)\b|error:|fatal\b|FATAL\b|panic:|Traceback\b)", re.I
)
_KUBERNETES = re.compile(r"serviceaccount|in-?cluster|kubernetes|kubeconfig", re.I)
_UV = re.compile(r"\.cache/uv|\buv\b.*(?:lock|sync|cache)", re.I)
_HOME_CACHE = re.compile(r"/root/|/home/[^/\s'\"]+/|~/|\.cache/|\.config/|\.local/")


def _unique(lines: Iterable[str], limit: int = SHOWN) -> list[str]:
    seen: list[str] = []
    for line in lines:
        line = line.rstrip()
        if line and line not in seen:
            seen.append(line)
    return seen[-limit:]


def read_only_lines(lines: Sequence[str]) -> list[str]:
    """Lines reporting a write refused by a read-only file system (Python, Rust/uv, libc wording)."""
    return _unique(line for line in lines if _READ_ONLY.search(line))


def error_lines(lines: Sequence[str], limit: int = 3) -> list[str]:
    """The last lines that read as an error (`FileNotFoundError: …`, `error: …`, `FATAL …`)."""
    return _unique((line for line in lines if _ERROR.search(line) and not line.lstrip().startswith("Traceback")), limit)


def variable_lines(lines: Sequence[str], names: Iterable[str]) -> list[str]:
    """Lines naming one of these variables, or Kubernetes in-cluster machinery they switch on."""
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)) + r")\b")
    return _unique(line for line in lines if pattern.search(line) or _KUBERNETES.search(line))


def read_only_hints(lines: Sequence[str], start_command: Sequence[str]) -> list[str]:
    """How the usual read-only failures are fixed, chosen from what the log and the command show."""
    text = "\n".join(read_only_lines(lines) or lines[-SHOWN:])
    hints = []
    if tuple(start_command[:2]) == ("uv", "run") or _UV.search(text):
        hints.append("`uv run` syncs the environment and locks its cache under $HOME at every start: start the "
                     'program directly, e.g. CMD ["/app/.venv/bin/python", "agent.py"] (or `uv run --no-sync` '
                     "with UV_CACHE_DIR=/tmp/uv-cache)")
    elif _HOME_CACHE.search(text):
        hints.append("a cache or config under $HOME: point it at /tmp (e.g. `ENV HOME=/tmp` or "
                     "`XDG_CACHE_HOME=/tmp/.cache`, or the library's own cache variable)")
    if re.search(r"\.log\b", text):
        hints.append("a log file next to the code: log to stdout/stderr instead (the platform collects them)")
    return hints


def variable_hints(lines: Sequence[str]) -> list[str]:
    if any(_KUBERNETES.search(line) for line in lines):
        return ["the agent switches to in-cluster Kubernetes mode when KUBERNETES_SERVICE_HOST is set: the platform "
                "sets KUBERNETES_* but mounts no service-account token. Choose that mode with a variable of your "
                "own (e.g. MYAGENT_IN_CLUSTER=1), not from KUBERNETES_*"]
    return []
