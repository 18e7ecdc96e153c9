"""Why a container did not exit within the grace period after SIGTERM: a shell-form CMD, a PID 1
that ignores SIGTERM or has no handler for it, a server waiting on in-flight streams. Pure: from
the start command and PID 1 as `candidate.signals` read them."""

from __future__ import annotations

from ..candidate.signals import Pid1


def is_shell_form(start_command: tuple[str, ...] | list[str]) -> bool:
    """Docker turns `CMD python app.py` into `/bin/sh -c "python app.py"`."""
    return len(start_command) >= 2 and start_command[0] in ("/bin/sh", "sh", "/bin/bash") and start_command[1] == "-c"


def likely_causes(start_command, pid1: Pid1, mid_stream: bool, grace_s: float) -> list[str]:
    """Why a container did not exit within the platform's grace period (`grace_s`), most likely first."""
    causes = []
    if is_shell_form(start_command):
        causes.append(f"shell-form start command ({' '.join(start_command)!r}): /bin/sh is PID 1, has no SIGTERM "
                      'handler and does not forward it; use the exec form, e.g. CMD ["python", "agent.py"]')
        return causes
    if pid1.ignores_term:
        causes.append(f"PID 1 ({pid1.command or 'unknown'}) ignores SIGTERM (its disposition is SIG_IGN): only the "
                      "kill at the deadline stops it; let SIGTERM end the process (uvicorn and gunicorn do)")
    elif pid1.catches_term is False:
        causes.append(f"PID 1 ({pid1.command or 'unknown'}) has no SIGTERM handler: the kernel ignores SIGTERM for "
                      "PID 1 without one; use a server that handles it (uvicorn, gunicorn) or an init such as tini")
    elif pid1.catches_term:
        during = "with a stream in flight " if mid_stream else ""
        causes.append(f"PID 1 ({pid1.command}) handles SIGTERM but does not exit {during}within {grace_s:g} s: bound "
                      "its graceful shutdown (e.g. uvicorn --timeout-graceful-shutdown 5) and end open streams")
    if not causes:
        causes.append(f"PID 1 ({pid1.command or 'unknown'}) did not exit within {grace_s:g} s of SIGTERM")
    return causes
