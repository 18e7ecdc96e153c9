"""The run context: what one process knows for the whole run and never changes — the contract
profile (as `Platform`, with this engine's emulation factor applied), the budgets scaled by that
factor, the engine as the report names it, and how candidates are reached. Made once per process
(`RunContext.make`) and passed down, through fixtures, to the candidates, the lifecycle trials,
the fuzzer and the checks. No module holds it: two runs in one process never see each other's.

What the run gathers as it goes (results, measurements, the progress line) is `run_state.RunState`'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import docker

from .candidate import reach
from .candidate.engine import describe, where
from .candidate.reach import LOCAL, Reach
from .contract.agent_config import Budgets
from .contract.catalogue import Requirement
from .contract.platform import Platform, emulation_factor
from .contract.profile import Profile
from .errors import InfrastructureError


@dataclass(frozen=True)
class RunContext:
    platform: Platform
    budgets: Budgets  # the agent config's, scaled by the platform's time factor
    engine: Mapping[str, Any]  # `candidate.engine.describe`, with how candidates are reached
    reach: Reach = LOCAL

    @classmethod
    def make(cls, profile: Profile, budgets: Budgets, engine: Mapping[str, Any], reach: Reach) -> "RunContext":
        """The context for `profile`'s images on this engine: an image of another architecture
        than the engine's runs under emulation, so every time budget and the probe timeout grow."""
        factor = emulation_factor(profile, str(engine.get("architecture", "")))
        engine = dict(engine, reached=reach.how)
        if factor != 1:
            engine["emulated"] = (f"{profile.platform} candidates run under emulation on this "
                                  f"{engine.get('architecture')} engine: time budgets and the probe timeout ×{factor:g}")
        return cls(Platform(profile, factor), budgets.scaled(factor), MappingProxyType(engine), reach)

    @classmethod
    def on_engine(cls, client: docker.DockerClient, profile: Profile, budgets: Budgets,
                  no_egress: bool = False) -> "RunContext":
        """The context on this engine, asked once; refused when --no-egress (`no_egress`) meets
        an engine whose network does not route to the candidates from here."""
        how = reach.for_engine(client)
        if no_egress and how.remote:
            raise InfrastructureError(
                f"--no-egress needs the candidates' own addresses, which a remote engine's network does not "
                f"route to from here (DOCKER_HOST={where()}): run the suite on the daemon's host, or "
                "in a container of that engine")
        return cls.make(profile, budgets, describe(client), how)

    @property
    def profile(self) -> Profile:
        return self.platform.profile

    @property
    def requirements(self) -> tuple[Requirement, ...]:
        """The requirements of the run's profile, in its words."""
        return self.profile.requirements()

    @property
    def engine_kind(self) -> str:
        return str(self.engine.get("kind", "Docker"))
