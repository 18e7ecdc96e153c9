"""What the platform does to a container, as one run sees it (`Platform`): the contract profile's
values and how much slower candidates run here (emulation). Made once per run and passed down to
whatever needs it (the candidate, the clients, the checks); no module holds it. The constants
below are the same on every platform."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .profile import DEFAULT, Probe, Profile, load

__all__ = ["Platform", "Probe", "Profile", "PROBE_TIMEOUT_S", "TMPFS_OPTIONS", "EMULATION_SLOWDOWN",
           "emulation_factor", "default"]

PROBE_TIMEOUT_S = 1.0  # Kubernetes' default probe timeout (every profile's platform probes as Kubernetes does)
TMPFS_OPTIONS = "rw,exec,size=64m,mode=1777"  # the writable /tmp of a read-only root

# An image for another architecture than the engine's runs under QEMU user emulation: several
# times slower. Every time budget and the probe timeout are scaled by this, and the report says so.
EMULATION_SLOWDOWN = 3.0  # measured here: start to first answer ×2–2.5 under QEMU


def emulation_factor(profile: Profile, engine_architecture: str) -> float:
    """The time factor for `profile`'s images on an engine of this architecture (`amd64`,
    `arm64`): 1 when they run natively (or the architecture is unknown)."""
    native = not engine_architecture or engine_architecture == profile.architecture
    return 1.0 if native else EMULATION_SLOWDOWN


@dataclass(frozen=True)
class Platform:
    """The active profile's values under the names the checks and the candidate use, with the
    time factor of this engine applied where a time is the platform's."""

    profile: Profile
    time_factor: float = 1.0

    @property
    def image_platform(self) -> str:
        """`linux/amd64`: the image platform the platform runs."""
        return self.profile.platform

    @property
    def port(self) -> int:
        return self.profile.port

    @property
    def user_url(self) -> str:
        """What `docker run -p PORT:PORT IMAGE` gives a user: the base URL of every curl line."""
        return f"http://127.0.0.1:{self.profile.port}"

    @property
    def ready_path(self) -> str:
        return self.profile.ready.path

    @property
    def health_path(self) -> str:
        """The liveness probe's path (the readiness one where the platform has a single probe)."""
        return self.profile.liveness.path

    @property
    def probe_paths(self) -> tuple[str, ...]:
        return self.profile.probe_paths

    @property
    def grace_s(self) -> float:
        """SIGTERM, then SIGKILL this long after."""
        return self.profile.grace_s

    @property
    def reserved_env(self) -> dict[str, str]:
        """The variables the platform sets (dummy values: what a candidate is started with); images
        must define none of them."""
        return dict(self.profile.injected_env)

    @property
    def withheld_env(self) -> dict[str, str]:
        """Variables the platform sets but a candidate is started without (name → why)."""
        return dict(self.profile.withheld_env)

    @property
    def writable_paths(self) -> tuple[str, ...]:
        return self.profile.writable_paths

    @property
    def read_only_root(self) -> bool:
        return self.profile.read_only_root

    @property
    def session_headers(self) -> dict[str, str]:
        return dict(self.profile.session_headers)

    @property
    def agent_chooses_the_form(self) -> bool:
        """The agent, not the Accept header, decides whether an answer is JSON or a stream."""
        return self.profile.negotiation == "agent"

    @property
    def emulated(self) -> bool:
        return self.time_factor != 1

    @property
    def probe_timeout_s(self) -> float:
        """Kubernetes' probe timeout, scaled when the candidate runs under emulation."""
        return PROBE_TIMEOUT_S * self.time_factor

    def is_reserved(self, name: str) -> bool:
        return self.profile.is_reserved(name)

    def name_list(self, names: Iterable[str]) -> str:
        """`PORT, K_SERVICE, …, KUBERNETES_* (8)`: reserved names, each family folded where it first shows."""
        names = list(names)
        for prefix in self.profile.reserved_prefixes:
            family = [n for n in names if n.startswith(prefix)]
            if family:
                shown_at = next(i for i, n in enumerate(names) if n.startswith(prefix))
                names = [n for n in names if not n.startswith(prefix)]
                names.insert(shown_at, f"{prefix}* ({len(family)})")
        return ", ".join(names)


def default() -> Platform:
    """The default profile's platform, natively: for tools and tests that run no conformance run."""
    return Platform(load(DEFAULT))
