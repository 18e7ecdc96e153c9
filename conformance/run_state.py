"""What one pytest process gathers about the conformance run (one image, one agent config), shared
by the plugin, which fills it, and the suite's fixtures, which read it. A "run" in this package is
always that: the whole check of one image. What never changes during the run (the profile, the
scaled budgets, the engine, how candidates are reached) is the frozen `RunContext` it holds."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .candidate.engine import DaemonWatch
from .contract.agent_config import AgentConfig
from .contract.profile import Profile
from .contract.secrets import Redactor
from .image.config import ImageInfo
from .image.vulns import ScanReport
from .measurements import Measurements
from .progress import Progress
from .report.results import CheckResult
from .run_context import RunContext


@dataclass
class RunState:
    """On the controller it also gathers every check's result."""

    image_ref: str
    config: AgentConfig
    profile: Profile
    run_id: str
    owner: str
    context: RunContext | None = None  # made once the engine answered (the controller's at session start)
    started: float = field(default_factory=time.monotonic)
    image: ImageInfo | None = None
    run_error: str | None = None
    checks: list[CheckResult] = field(default_factory=list)
    report: dict | None = None
    vuln_report: ScanReport | None = None  # --vuln-report, parsed (NO-CRITICAL-VULNS)
    vuln_report_raw: bytes | None = None  # its bytes, for the certification bundle
    order: dict[str, int] = field(default_factory=dict)  # node ID → collection position
    internal_network: str | None = None  # --no-egress: the run's internal network
    daemon_lost: bool = False  # run_error is the Docker daemon stopping mid-run
    bundle: Path | None = None  # --certify DIR
    before_remove: Callable | None = None  # called with each candidate before its removal (keeps its log)
    measurements: Measurements = field(default_factory=Measurements)  # this process's, not yet shipped
    measured: list = field(default_factory=list)  # the controller's: drained from every process
    watch: DaemonWatch = field(default_factory=DaemonWatch)  # this process's clients: is the daemon gone?
    progress: Progress = field(default_factory=Progress)  # the terminal's progress line (off unless the plugin sets it)


    @property
    def secrets(self) -> Redactor:
        """Hides the values of the agent's own environment in whatever the run reports."""
        return Redactor(self.config.env)


STATE = pytest.StashKey[RunState]()  # on the config
EVIDENCE = pytest.StashKey[list]()  # on a check's item: the lines it recorded as it went
MARKER = "requirement"  # @pytest.mark.requirement("ID"): the one requirement a check decides
