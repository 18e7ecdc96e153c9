"""The pytest11 entry point: options and hooks only. It collects the suite when `--image` is given,
turns each check's outcome into a per-requirement result (also across pytest-xdist workers), and
hands the session's work to `conformance.session` (setup, start, reports, finish).

Without `--image` the suite's checks are not collected and pytest runs the project's own tests.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from . import options, suite
from .check_status import classify
from .contract.catalogue import BY_ID, Phase
from .errors import InfrastructureError, NotChecked, RequirementFailed
from .report.results import CheckResult, Status
from .run_state import EVIDENCE, MARKER, STATE, RunState
from .session import console, finish, reports, setup, start

SUITE_DIR = Path(suite.__file__).parent
_PROPERTY = "conformance"
_DAEMON_DOWN = "conformance-daemon-down"  # report property: the Docker daemon stopped answering
_MEASURED = "conformance-measured"  # report property: measurements drained from the process that ran it


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("agent-conformance", "agent container conformance (OCI Hosted Deployments)")
    group.addoption("--image", metavar="REF", help="run the conformance suite against this local image")
    options.add_all(group.addoption, plugin=True)


def _in_suite(path: Path) -> bool:
    try:
        path.resolve().relative_to(SUITE_DIR.resolve())
        return True
    except ValueError:
        return False


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARKER}(id, phase=None): the contract requirement ID this check decides "
                                       "(it runs in that requirement's phase, or in `phase`)")
    image_ref = config.getoption("image")
    if not image_ref:
        given = [f"--{name.replace('_', '-')}" for name in reports.REPORT_OPTIONS if config.getoption(name, None)]
        if given:
            raise pytest.UsageError(f"{given[0]} needs --image: there is no conformance run to report")
        return
    try:
        state = setup.new_state(config, image_ref)
    except setup.Refused as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[STATE] = state
    # The suite runs instead of whatever the rootdir's testpaths name, unless paths inside it were given.
    if not any(_in_suite(Path(str(a).split("::")[0])) for a in config.args if Path(str(a).split("::")[0]).exists()):
        config.args[:] = [str(SUITE_DIR)]
    config.pluginmanager.register(RunHooks(config, state), "agent-conformance-run")
    if setup.is_controller(config):
        # CI cancels with SIGTERM: unwind like Ctrl-C so containers are removed and the report written.
        signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
        # A shell starts background jobs with SIGINT ignored, and xdist's workers ignore it too, so a
        # run started from a script or a test could not be stopped the Ctrl-C way: whoever sends
        # SIGINT to the run means to stop it.
        if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
            signal.signal(signal.SIGINT, signal.default_int_handler)


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
        marks = list(item.iter_markers(MARKER))
        if len(marks) != 1 or not marks[0].args or marks[0].args[0] not in BY_ID:
            raise pytest.UsageError(f"{item.nodeid}: every check needs exactly one @requirement(ID) marker with a known ID")
    if STATE in config.stash:
        # The requirements the run's profile does not have are not part of this run at all.
        applies = config.stash[STATE].profile.rules
        kept = [i for i in items if not _in_suite(Path(str(i.path))) or i.get_closest_marker(MARKER).args[0] in applies]
        if len(kept) != len(items):
            config.hook.pytest_deselected(items=[i for i in items if i not in kept])
            items[:] = kept
    # In the order of the catalogue's phases: the checks that only read the shared candidate before
    # those that may harm it (fuzzing), the watch over its whole use, then the checks on candidates of their own.
    items.sort(key=phase_of)


def phase_of(item: pytest.Item) -> Phase:
    """When a check runs: its requirement's phase, unless its marker names another (a check that
    decides its ID from the fuzz campaign's findings runs with the campaign)."""
    mark = item.get_closest_marker(MARKER)
    if mark is None or not mark.args or mark.args[0] not in BY_ID:
        return Phase.SERVE
    return Phase(mark.kwargs.get("phase", BY_ID[mark.args[0]].phase))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Turn each phase of a check into (requirement ID, status, evidence) carried by the report's
    user_properties, which pytest-xdist ships to the controller."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    mark = item.get_closest_marker(MARKER)
    if mark is None or STATE not in item.config.stash or not _in_suite(Path(str(item.path))):
        return
    drained = item.config.stash[STATE].measurements.drain()
    if drained:  # whatever this process measured since its last report, shipped with this one
        report.user_properties.append((_MEASURED, json.dumps(drained)))
    if call.when != "call" and report.passed:
        return
    down = item.config.stash[STATE].watch.down
    status, lines = classify(call.excinfo, call.when, down)
    if status == "skip" and isinstance(report.longrepr, tuple):
        lines = [str(report.longrepr[2]).removeprefix("Skipped: ")]
    recorded = item.stash.get(EVIDENCE, [])
    # The agent's own variables are secrets: their values leave no check, whatever the agent echoed.
    shown = item.config.stash[STATE].secrets.lines(lines + [x for x in recorded if x not in lines])
    payload = {"id": mark.args[0], "status": status, "evidence": shown, "duration_s": round(report.duration, 6)}
    report.user_properties.append((_PROPERTY, json.dumps(payload)))
    if down:
        # Nothing more can be decided: stop here (each process sees it; xdist stops the others).
        report.user_properties.append((_DAEMON_DOWN, down))
        item.session.shouldstop = f"agent-conformance: {down}"
    if call.excinfo is not None and isinstance(call.excinfo.value, (RequirementFailed, NotChecked)):
        # Evidence reads better than a traceback into the suite's own code; other errors keep theirs.
        report.longrepr = "\n".join([f"{mark.args[0]} {status}:", *payload["evidence"]])


class RunHooks:
    """Hooks active only when `--image` is given (registered by pytest_configure)."""

    def __init__(self, config: pytest.Config, state: RunState):
        self.config = config
        self.state = state

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        if not setup.is_controller(self.config):
            return
        self.state.progress = console.progress_line(self.config)
        try:
            start.start(self.state)
        except InfrastructureError as exc:
            self.state.run_error = str(exc)
            finish.report(self.config, self.state, interrupted=False)
            # A usage error, not `pytest.exit`: pytest prints it once, as one line ("ERROR: …"),
            # where an exit is printed twice, the second time wrapped in pytest's internals.
            raise pytest.UsageError(f"agent-conformance: {exc}") from None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Runs where results arrive: the controller under xdist, the only process otherwise."""
        for name, value in report.user_properties:
            if name == _MEASURED:
                self.state.measured += json.loads(value)
            if name == _DAEMON_DOWN and not self.state.run_error:
                self.state.run_error, self.state.daemon_lost = value, True
            if name == _PROPERTY:
                payload = json.loads(value)
                check = report.nodeid.split("::", 1)[-1]
                self.state.checks.append(CheckResult(check, payload["id"], Status(payload["status"]),
                                                     tuple(payload["evidence"]), payload.get("duration_s", 0.0),
                                                     report.nodeid))

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.state.order = {item.nodeid: i for i, item in enumerate(session.items)}

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids: list[str]) -> None:
        """Under xdist the controller collects nothing: the workers' collection gives the order."""
        self.state.order = {nodeid: i for i, nodeid in enumerate(ids)}

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        # The sweep by run label is the controller's: it runs after every worker has finished. A
        # worker sweeping would kill the candidates of workers still running (they share the label).
        if not setup.is_controller(self.config):
            return
        self._remove_everything()
        if self.state.report is not None:
            return  # the run ended at its start (already reported)
        finish.report(self.config, self.state, interrupted=exitstatus == pytest.ExitCode.INTERRUPTED)
        session.exitstatus = finish.exit_status(self.state, exitstatus)

    def _remove_everything(self) -> None:
        problem = finish.remove_everything(self.state)
        if problem:
            self.config.get_terminal_writer().line(problem, red=True)

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if self.state.report is not None and setup.is_controller(self.config):
            console.summary(terminalreporter, self.config, self.state)
