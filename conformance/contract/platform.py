"""What the platform does to a container: the active contract profile's values (`profile`), read
at the moment they are needed, and the few that are the same on every platform. Checks and the
candidate read these; no other module spells them out."""

from __future__ import annotations

from collections.abc import Iterable

from .profile import Probe, Profile, active

__all__ = ["Probe", "Profile", "active", "PROBE_TIMEOUT_S", "TMPFS_OPTIONS", "platform", "port", "ready_path",
           "health_path", "probe_paths", "grace_s", "reserved_env", "writable_paths", "is_reserved", "name_list"]

PROBE_TIMEOUT_S = 1.0  # Kubernetes' default probe timeout (every profile's platform probes as Kubernetes does)
TMPFS_OPTIONS = "rw,exec,size=64m,mode=1777"  # the writable /tmp of a read-only root


def platform() -> str:
    """`linux/amd64`: the image platform the platform runs."""
    return active().platform


def port() -> int:
    return active().port


def ready_path() -> str:
    return active().ready.path


def health_path() -> str:
    """The liveness probe's path (the readiness one where the platform has a single probe)."""
    return active().liveness.path


def probe_paths() -> tuple[str, ...]:
    return active().probe_paths


def grace_s() -> float:
    """SIGTERM, then SIGKILL this long after."""
    return active().grace_s


def reserved_env() -> dict[str, str]:
    """The variables the platform sets (dummy values: what a candidate is started with); images
    must define none of them."""
    return dict(active().injected_env)


def writable_paths() -> tuple[str, ...]:
    return active().writable_paths


def is_reserved(name: str) -> bool:
    return active().is_reserved(name)


def name_list(names: Iterable[str]) -> str:
    """`PORT, K_SERVICE, …, KUBERNETES_* (8)`: reserved names, each family folded where it first shows."""
    names = list(names)
    for prefix in active().reserved_prefixes:
        family = [n for n in names if n.startswith(prefix)]
        if family:
            shown_at = next(i for i, n in enumerate(names) if n.startswith(prefix))
            names = [n for n in names if not n.startswith(prefix)]
            names.insert(shown_at, f"{prefix}* ({len(family)})")
    return ", ".join(names)
