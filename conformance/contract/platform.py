"""What the platform does to a container: the active contract profile's values (`profile`), read
at the moment they are needed, and the few that are the same on every platform. Checks and the
candidate read these; no other module spells them out."""

from __future__ import annotations

from collections.abc import Iterable

from .profile import Probe, Profile, active

__all__ = ["Probe", "Profile", "active", "PROBE_TIMEOUT_S", "TMPFS_OPTIONS", "platform", "port", "ready_path",
           "health_path", "probe_paths", "grace_s", "reserved_env", "writable_paths", "is_reserved", "name_list", "emulate", "time_factor", "probe_timeout_s",
           "EMULATION_SLOWDOWN"]

PROBE_TIMEOUT_S = 1.0  # Kubernetes' default probe timeout (every profile's platform probes as Kubernetes does)
TMPFS_OPTIONS = "rw,exec,size=64m,mode=1777"  # the writable /tmp of a read-only root


# An image for another architecture than the engine's runs under QEMU user emulation: several
# times slower. Every time budget and the probe timeout are scaled by this, and the report says so.
EMULATION_SLOWDOWN = 3.0  # measured here: start to first answer ×2–2.5 under QEMU
_time_factor = 1.0


def emulate(engine_architecture: str) -> float:
    """Note the engine's architecture (`amd64`, `arm64`): the time factor for the active profile's
    images (1 when they are native)."""
    global _time_factor
    _time_factor = 1.0 if not engine_architecture or engine_architecture == active().architecture \
        else EMULATION_SLOWDOWN
    return _time_factor


def time_factor() -> float:
    return _time_factor


def probe_timeout_s() -> float:
    """Kubernetes' probe timeout, scaled when the candidate runs under emulation."""
    return PROBE_TIMEOUT_S * _time_factor


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
