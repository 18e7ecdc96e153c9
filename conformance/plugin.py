"""The pytest11 entry point: options, collecting the suite when `--image` is given, per-requirement
results (also across pytest-xdist workers), the report, and cleaning up every container.

Without `--image` the suite's checks are not collected and pytest runs the project's own tests.
"""

from __future__ import annotations

import json
import os
import re
import signal
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from . import candidate as candidate_mod
from . import report as report_mod
from .config import AgentConfig, ConfigError, resolve_config
from .engine import InfrastructureError, connect
from .image import ImageInfo, inspect_image
from .candidate import CandidateUnavailable
from .outcome import RequirementFailed, classify
from .requirements import BY_ID, IDS
from .results import CheckResult, aggregate

SUITE_DIR = Path(__file__).parent / "suite"
_MARKER = "requirement"
_PROPERTY = "conformance"


@dataclass
class RunState:
    """What one pytest process knows about the run. On the controller it gathers every result."""

    image_ref: str
    config: AgentConfig
    run_id: str
    owner: str
    started: float = field(default_factory=time.monotonic)
    image: ImageInfo | None = None
    run_error: str | None = None
    checks: list[CheckResult] = field(default_factory=list)
    report: dict | None = None


STATE = pytest.StashKey[RunState]()
EVIDENCE = pytest.StashKey[list]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("agent-conformance", "agent container conformance (OCI Hosted Deployments)")
    group.addoption("--image", metavar="REF", help="run the conformance suite against this local image")
    group.addoption("--agent-config", metavar="FILE", help="agent config (TOML): [[endpoints]] and [budgets]")
    group.addoption("--endpoint", action="append", default=[], metavar='"METHOD /path"',
                    help='a declared endpoint, e.g. "POST /chat" (repeatable; default: POST /chat)')
    group.addoption("--json", action="append", default=[], metavar="BODY",
                    help="example JSON body for --endpoint (once for all, or once per --endpoint)")
    group.addoption("--report-json", metavar="FILE", help="write the certification report as JSON")
    group.addoption("--report-md", metavar="FILE", help="write the certification report as Markdown")


def _is_controller(config: pytest.Config) -> bool:
    return not hasattr(config, "workerinput")


def _in_suite(path: Path) -> bool:
    try:
        path.resolve().relative_to(SUITE_DIR.resolve())
        return True
    except ValueError:
        return False


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{_MARKER}(id): the contract requirement ID this check decides")
    image_ref = config.getoption("image")
    if not image_ref:
        return
    try:
        agent_config = resolve_config(config.getoption("agent_config"), config.getoption("endpoint"),
                                      config.getoption("json"))
    except ConfigError as exc:
        _write_reports(config, image_ref, None, aggregate([], set(), run_error=f"bad agent config: {exc}"), 0.0)
        raise pytest.UsageError(f"agent config refused: {exc}") from None
    workerinput = getattr(config, "workerinput", {})
    state = RunState(
        image_ref=image_ref,
        config=agent_config,
        run_id=workerinput.get("conformance_run_id", uuid.uuid4().hex),
        owner=workerinput.get("conformance_owner", f"{os.uname().nodename}:{os.getpid()}"),
    )
    config.stash[STATE] = state
    # The suite runs instead of whatever the rootdir's testpaths name, unless paths inside it were given.
    if not any(_in_suite(Path(str(a).split("::")[0])) for a in config.args if Path(str(a).split("::")[0]).exists()):
        config.args[:] = [str(SUITE_DIR)]
    config.pluginmanager.register(ConformanceRun(config, state), "agent-conformance-run")
    if _is_controller(config):
        # CI cancels with SIGTERM: unwind like Ctrl-C so containers are removed and the report written.
        signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)


def _raise_keyboard_interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """pytest-xdist: every worker shares the controller's run ID and owner, so cleanup by label finds all."""
    state = node.config.stash.get(STATE, None)
    if state is not None:
        node.workerinput["conformance_run_id"] = state.run_id
        node.workerinput["conformance_owner"] = state.owner


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if not config.getoption("image") and _in_suite(collection_path):
        return True  # the suite's checks need --image
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if not _in_suite(Path(str(item.path))):
            continue
        marks = list(item.iter_markers(_MARKER))
        if len(marks) != 1 or not marks[0].args or marks[0].args[0] not in BY_ID:
            raise pytest.UsageError(f"{item.nodeid}: every check needs exactly one @requirement(ID) marker with a known ID")


def implemented_ids() -> set[str]:
    """IDs some check of the suite is marked with. Read from the sources: under xdist the controller
    collects nothing, yet it must tell "not implemented" from "not selected"."""
    found: set[str] = set()
    for path in SUITE_DIR.glob("test_*.py"):
        found.update(re.findall(r'requirement\(\s*"([A-Z0-9-]+)"', path.read_text()))
    return found & set(IDS)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Turn each phase of a check into (requirement ID, status, evidence) carried by the report's
    user_properties, which pytest-xdist ships to the controller."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    mark = item.get_closest_marker(_MARKER)
    if mark is None or STATE not in item.config.stash or not _in_suite(Path(str(item.path))):
        return
    if call.when != "call" and report.passed:
        return
    status, lines = classify(call.excinfo, call.when)
    if status == "skip" and isinstance(report.longrepr, tuple):
        lines = [str(report.longrepr[2]).removeprefix("Skipped: ")]
    recorded = item.stash.get(EVIDENCE, [])
    payload = {"id": mark.args[0], "status": status, "evidence": lines + [x for x in recorded if x not in lines]}
    report.user_properties.append((_PROPERTY, json.dumps(payload)))
    if call.excinfo is not None and isinstance(call.excinfo.value, (RequirementFailed, CandidateUnavailable)):
        # Evidence reads better than a traceback into the suite's own code; other errors keep theirs.
        report.longrepr = "\n".join([f"{mark.args[0]} {status}:", *payload["evidence"]])


class ConformanceRun:
    """Hooks active only when `--image` is given (registered by pytest_configure)."""

    def __init__(self, config: pytest.Config, state: RunState):
        self.config = config
        self.state = state

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        if not _is_controller(self.config):
            return
        try:
            client = connect()
            candidate_mod.reap_orphans(client)
            self.state.image = inspect_image(client, self.state.image_ref)
        except InfrastructureError as exc:
            self.state.run_error = str(exc)
            self._finish(interrupted=False)
            pytest.exit(f"agent-conformance: {exc}", returncode=2)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Runs where results arrive: the controller under xdist, the only process otherwise."""
        for name, value in report.user_properties:
            if name == _PROPERTY:
                payload = json.loads(value)
                check = report.nodeid.split("::", 1)[-1]
                self.state.checks.append(CheckResult(check, payload["id"], payload["status"], tuple(payload["evidence"])))

    def _finish(self, interrupted: bool) -> dict:
        state = self.state
        results = aggregate(state.checks, implemented_ids(), state.run_error, interrupted)
        state.report = _write_reports(self.config, state.image_ref, state.image, results, time.monotonic() - state.started)
        return state.report

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        try:
            candidate_mod.remove_labelled(connect(), {candidate_mod.LABEL_RUN: self.state.run_id})
        except InfrastructureError as exc:
            self.config.get_terminal_writer().line(f"agent-conformance: cleanup failed: {exc}", red=True)
        if not _is_controller(self.config) or self.state.run_error:
            return
        interrupted = exitstatus == pytest.ExitCode.INTERRUPTED
        report = self._finish(interrupted)
        if interrupted or exitstatus in (pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR,
                                         pytest.ExitCode.NO_TESTS_COLLECTED):
            session.exitstatus = 2
        else:
            # The verdict decides: a failing SHOULD is shown but does not fail the run.
            session.exitstatus = 0 if report["verdict"] == "pass" else 1

    def pytest_terminal_summary(self, terminalreporter) -> None:
        report = self.state.report
        if report is None or not _is_controller(self.config):
            return
        terminalreporter.section("agent conformance")
        for i, line in enumerate(report_mod.render_terminal(report)):
            color = {"pass": "green", "fail": "red"}[report["verdict"]] if i == 0 else None
            terminalreporter.write_line(line, **({color: True, "bold": True} if color else {}))
        for option in ("report_json", "report_md"):
            if self.config.getoption(option):
                terminalreporter.write_line(f"report written: {self.config.getoption(option)}")


def _write_reports(config: pytest.Config, image_ref: str, image: ImageInfo | None, results, duration_s: float) -> dict:
    report = report_mod.build(image_ref, image, results, duration_s)
    if config.getoption("report_json"):
        report_mod.write_json(config.getoption("report_json"), report)
    if config.getoption("report_md"):
        report_mod.write_markdown(config.getoption("report_md"), report)
    return report
