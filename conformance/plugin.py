"""The pytest11 entry point: options, collecting the suite when `--image` is given, per-requirement
results (also across pytest-xdist workers), the report, and cleaning up every container.

Without `--image` the suite's checks are not collected and pytest runs the project's own tests.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
import uuid
from pathlib import Path

import pytest

from . import measurements, options, suite
from .candidate import labels, reach, sandbox
from .candidate.engine import connect, daemon_down, for_slow_calls, inspect_image
from .candidate.engine import describe as describe_engine
from .candidate.engine import where as engine_address
from .candidate.logs import LogKeeper
from .check_status import classify
from .contract.agent_config import resolve_config
from .contract import platform, profile
from .contract.catalogue import BY_ID, Phase
from .errors import BundleError, ConfigError, InfrastructureError, NotChecked, RequirementFailed, VulnReportError
from .image import vulns
from .image.config import ImageInfo
from .progress import Progress, terminal_allowed
from .report import bundle, document, html, markdown, repro, terminal
from .report.results import CheckResult, Status, aggregate
from .run_state import EVIDENCE, MARKER, STATE, RunState

SUITE_DIR = Path(suite.__file__).parent
_PROPERTY = "conformance"
_DAEMON_DOWN = "conformance-daemon-down"  # report property: the Docker daemon stopped answering
_MEASURED = "conformance-measured"  # report property: measurements drained from the process that ran it
_REPORT_OPTIONS = ("report_json", "report_md", "report_html")
# A certification is reproducible: without --fuzz-seed, the fuzzer gets this one (and says so).
CERTIFY_FUZZ_SEED = 0


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("agent-conformance", "agent container conformance (OCI Hosted Deployments)")
    group.addoption("--image", metavar="REF", help="run the conformance suite against this local image")
    options.add_all(group.addoption, plugin=True)


def _is_controller(config: pytest.Config) -> bool:
    return not hasattr(config, "workerinput")


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
        given = [f"--{name.replace('_', '-')}" for name in _REPORT_OPTIONS if config.getoption(name, None)]
        if given:
            raise pytest.UsageError(f"{given[0]} needs --image: there is no conformance run to report")
        return
    unwritable = _unwritable_report_path(config)
    if unwritable:
        raise pytest.UsageError(unwritable)  # before any container starts, not after the run
    try:
        agent_config = resolve_config(config.getoption("agent_config"), config.getoption("endpoint"),
                                      config.getoption("json"))
    except ConfigError as exc:
        _write_reports(config, image_ref, None, aggregate([], set(), run_error=f"bad agent config: {exc}"), 0.0)
        raise pytest.UsageError(f"agent config refused: {exc}") from None
    try:
        contract = profile.activate(_profile_of(config.getoption("profile"), agent_config))
    except ConfigError as exc:
        _write_reports(config, image_ref, None, aggregate([], set(), run_error=f"profile refused: {exc}"), 0.0)
        raise pytest.UsageError(f"profile refused: {exc}") from None
    agent_config = agent_config.for_profile(contract.endpoint_method, contract.endpoint_path, contract.endpoint_json)
    vuln_path = config.getoption("vuln_report")
    try:
        # Refused before any container starts: a report the suite cannot read decides nothing.
        vuln_raw, vuln_report = vulns.read_report(Path(vuln_path)) if vuln_path else (None, None)
    except VulnReportError as exc:
        message = f"vulnerability report refused: {exc}"
        _write_reports(config, image_ref, None, aggregate([], set(), run_error=message), 0.0)
        raise pytest.UsageError(message) from None
    _keep_hypothesis_out_of_the_working_directory()
    workerinput = getattr(config, "workerinput", {})
    state = RunState(
        image_ref=image_ref,
        config=agent_config,
        run_id=workerinput.get("conformance_run_id", uuid.uuid4().hex),
        owner=workerinput.get("conformance_owner", labels.owner_id()),
    )
    state.vuln_report, state.vuln_report_raw = vuln_report, vuln_raw
    if config.getoption("no_egress"):
        state.internal_network = sandbox.no_egress_network(state.run_id)  # made by the controller
    config.stash[STATE] = state
    # The suite runs instead of whatever the rootdir's testpaths name, unless paths inside it were given.
    if not any(_in_suite(Path(str(a).split("::")[0])) for a in config.args if Path(str(a).split("::")[0]).exists()):
        config.args[:] = [str(SUITE_DIR)]
    if config.getoption("certify"):
        _configure_bundle(config, state)  # a run refused before this point writes no bundle
    config.pluginmanager.register(RunHooks(config, state), "agent-conformance-run")
    if _is_controller(config):
        # CI cancels with SIGTERM: unwind like Ctrl-C so containers are removed and the report written.
        signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
        # A shell starts background jobs with SIGINT ignored, and xdist's workers ignore it too, so a
        # run started from a script or a test could not be stopped the Ctrl-C way: whoever sends
        # SIGINT to the run means to stop it.
        if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
            signal.signal(signal.SIGINT, signal.default_int_handler)


def _profile_of(option: str | None, agent_config) -> profile.Profile:
    """The contract profile the run checks against: `--profile`, else the agent config's, else the
    default; refused when the two name different ones or the agent's port is not the platform's."""
    if option and agent_config.profile and option != agent_config.profile:
        raise ConfigError(f"--profile {option} but the agent config ({agent_config.source}) names profile "
                          f"{agent_config.profile}: give one")
    contract = profile.load(option or agent_config.profile or profile.DEFAULT)
    if agent_config.port is not None and agent_config.port != contract.port and not contract.port_from_env:
        raise ConfigError(f"the agent config ({agent_config.source}) says port {agent_config.port}, and the "
                          f"{contract.name} profile's platform sends traffic to port {contract.port}: serve on "
                          f"{contract.port}, or choose the profile of the platform you deploy to")
    return contract


def _unwritable_report_path(config: pytest.Config) -> str | None:
    """Why a report file cannot be written where asked (one line), or None: tried now, before any
    container starts, rather than found out after the run. A missing folder is made."""
    for name in _REPORT_OPTIONS:
        value = config.getoption(name, None)
        if not value:
            continue
        flag, path = f"--{name.replace('_', '-')}", Path(value)
        if path.is_dir():
            return f"{flag} {value}: is a folder; give a file name"
        existed = path.exists()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "a", encoding="utf-8"):
                pass
        except OSError as exc:
            return f"{flag} {value}: cannot be written ({exc.strerror or exc}); give a path in a folder you can write to"
        if not existed:
            path.unlink()
    return None


def _keep_hypothesis_out_of_the_working_directory() -> None:
    """Hypothesis keeps its files (a Unicode table it takes ~200 MiB and seconds to build, constants
    of the source) in `.hypothesis/` of the working directory: a run from a fresh directory would
    rebuild them each time and leave them behind. A cache of the user's is used instead, unless
    HYPOTHESIS_STORAGE_DIRECTORY says where."""
    if os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
        return
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "agent-conformance" / "hypothesis"
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError:
        return  # not writable: Hypothesis's default, the working directory
    from hypothesis.configuration import set_hypothesis_home_dir  # only with --image: plain pytest skips it

    set_hypothesis_home_dir(cache)


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
        # The requirements the active profile does not have are not part of this run at all.
        applies = profile.active().rules
        kept = [i for i in items if not _in_suite(Path(str(i.path))) or i.get_closest_marker(MARKER).args[0] in applies]
        if len(kept) != len(items):
            config.hook.pytest_deselected(items=[i for i in items if i not in kept])
            items[:] = kept
    # In the order of the catalogue's phases: the checks that only read the shared candidate before
    # those that may harm it (fuzzing), the lifecycle checks after, the watch over its whole life last.
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
    status, lines = classify(call.excinfo, call.when)
    if status == "skip" and isinstance(report.longrepr, tuple):
        lines = [str(report.longrepr[2]).removeprefix("Skipped: ")]
    recorded = item.stash.get(EVIDENCE, [])
    payload = {"id": mark.args[0], "status": status, "evidence": lines + [x for x in recorded if x not in lines],
               "duration_s": round(report.duration, 6)}
    report.user_properties.append((_PROPERTY, json.dumps(payload)))
    if daemon_down():
        # Nothing more can be decided: stop here (each process sees it; xdist stops the others).
        report.user_properties.append((_DAEMON_DOWN, daemon_down()))
        item.session.shouldstop = f"agent-conformance: {daemon_down()}"
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
        if not _is_controller(self.config):
            return
        self.state.progress = _terminal_progress(self.config)
        try:
            client = connect()
            self.state.reach = reach.for_engine(client)
            if self.state.internal_network and self.state.reach.remote:
                raise InfrastructureError(
                    f"--no-egress needs the candidates' own addresses, which a remote engine's network does not "
                    f"route to from here (DOCKER_HOST={engine_address()}): run the suite on the daemon's host, or "
                    "in a container of that engine")
            self.state.engine = {**describe_engine(client), "reached": self.state.reach.how}
            factor = platform.emulate(str(self.state.engine.get("architecture", "")))
            if factor != 1:
                self.state.engine["emulated"] = (f"{profile.active().platform} candidates run under emulation on this "
                                                 f"{self.state.engine.get('architecture')} engine: time budgets and the "
                                                 f"probe timeout ×{factor:g}")
            labels.reap_orphans(for_slow_calls(client))
            self.state.image = inspect_image(client, self.state.image_ref)
            if self.state.internal_network:
                sandbox.create_no_egress_network(client, self.state.run_id,
                                                 labels.run_labels(self.state.run_id, self.state.owner))
        except InfrastructureError as exc:
            self.state.run_error = str(exc)
            self._finish(interrupted=False)
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

    def _finish(self, interrupted: bool) -> dict:
        state = self.state
        # Results arrive in completion order (under xdist, whichever worker is first): report them
        # in collection order, so two runs of the same image give the same report.
        state.checks.sort(key=lambda c: (state.order.get(c.nodeid, len(state.order)), c.nodeid))
        results = aggregate(state.checks, suite.implemented_ids(), state.run_error, interrupted)
        state.report = _write_reports(self.config, state.image_ref, state.image, results, time.monotonic() - state.started)
        return state.report

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        # The sweep by run label is the controller's: it runs after every worker has finished. A
        # worker sweeping would kill the candidates of workers still running (they share the label).
        if _is_controller(self.config):
            self._remove_everything()
        if not _is_controller(self.config) or self.state.report is not None:
            return  # a worker, or the run ended at its start (already reported)
        interrupted = exitstatus == pytest.ExitCode.INTERRUPTED
        report = self._finish(interrupted)
        if interrupted or self.state.run_error or exitstatus in (
                pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.NO_TESTS_COLLECTED):
            session.exitstatus = 2
        else:
            # The verdict decides: a failing SHOULD is shown but does not fail the run.
            session.exitstatus = 0 if report["verdict"] == "pass" else 1

    def _remove_everything(self) -> None:
        """Every container, volume and network of this run, by its label."""
        writer = self.config.get_terminal_writer()
        if self.state.daemon_lost or daemon_down():
            if self.state.image is not None:  # containers may have been made
                writer.line("agent-conformance: the Docker daemon is not answering: this run's containers could "
                            "not be removed; the next run removes them (they are labelled)", red=True)
            return
        try:
            client = for_slow_calls(connect())
            labels.remove_labelled(client, {labels.LABEL_RUN: self.state.run_id})
        except InfrastructureError as exc:
            writer.line(f"agent-conformance: cleanup failed: {exc}", red=True)

    def pytest_terminal_summary(self, terminalreporter) -> None:
        report = self.state.report
        if report is None or not _is_controller(self.config):
            return
        terminalreporter.section("agent conformance")
        if self.state.daemon_lost:
            terminalreporter.write_line(f"agent-conformance: run stopped: {self.state.run_error}", red=True,
                                        bold=True)
        for i, line in enumerate(terminal.render_terminal(report)):
            color = {"pass": "green", "fail": "red"}[report["verdict"]] if i == 0 else None
            terminalreporter.write_line(line, **({color: True, "bold": True} if color else {}))
        if terminal.engine_line(report):
            terminalreporter.write_line(terminal.engine_line(report))
        for option in _REPORT_OPTIONS:
            if self.config.getoption(option):
                terminalreporter.write_line(f"report written: {self.config.getoption(option)}")
        if self.state.bundle is not None:
            terminalreporter.write_line(f"certification bundle written: {self.state.bundle}")


def _terminal_progress(config: pytest.Config) -> Progress:
    """The progress line, when a person watches the terminal; written with pytest's capture
    suspended (a check's output is captured while it runs)."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or not terminal_allowed(bool(reporter.isatty), config.get_verbosity(), dict(os.environ),
                                                worker=not _is_controller(config)):
        return Progress()
    writer = config.get_terminal_writer()

    def write(text: str) -> None:
        with capture.global_and_fixture_disabled() if capture is not None else contextlib.nullcontext():
            writer.write(text, flush=True)

    return Progress(write, width=writer.fullwidth)


def _write_reports(config: pytest.Config, image_ref: str, image: ImageInfo | None, results, duration_s: float) -> dict:
    state = config.stash.get(STATE, None)
    measured = measurements.merge(state.measured) if state is not None else None
    endpoints = [e.label for e in state.config.endpoints] if state is not None else []
    engine = state.engine if state is not None else {}
    report = document.build(image_ref, image, results, duration_s, measured, endpoints, engine)
    if config.getoption("report_json"):
        document.write_json(config.getoption("report_json"), report)
    if config.getoption("report_md"):
        markdown.write_markdown(config.getoption("report_md"), report)
    if config.getoption("report_html"):
        html.write_html(config.getoption("report_html"), report)
    beside = config.getoption("report_json") or config.getoption("report_md")
    if beside:
        repro.write_reproductions(Path(beside).with_suffix(".repro.sh"), report)
    if state is not None and state.bundle is not None and _is_controller(config):
        _write_bundle(config, state, report, image)
    return report


# -- the certification bundle (--certify DIR) ---------------------------------------------------


def _configure_bundle(config: pytest.Config, state: RunState) -> None:
    """The controller empties DIR first (refusing a directory that holds anything else); every
    process keeps its candidates' logs in DIR/logs; the fuzzer gets the fixed seed in every process
    (workers parse the same arguments)."""
    directory = Path(config.getoption("certify"))
    if _is_controller(config):
        try:
            bundle.prepare(directory)
        except BundleError as exc:
            _write_reports(config, state.image_ref, None, aggregate([], set(), run_error=str(exc)), 0.0)
            raise pytest.UsageError(str(exc)) from None
    state.bundle = directory
    state.before_remove = LogKeeper(directory / bundle.LOGS, getattr(config, "workerinput", {}).get("workerid"))
    if config.getoption("fuzz_seed", None) is None and hasattr(config.option, "fuzz_seed"):
        config.option.fuzz_seed = CERTIFY_FUZZ_SEED


def _write_bundle(config: pytest.Config, state: RunState, report: dict, image: ImageInfo | None) -> None:
    options = {
        "vuln_report": config.getoption("vuln_report"),
        "fuzz_examples": config.getoption("fuzz_examples", None),
        "fuzz_seed": config.getoption("fuzz_seed", None),
        "no_egress": bool(config.getoption("no_egress", False)),
        "selection": {"keyword": config.getoption("keyword") or None, "markexpr": config.getoption("markexpr") or None},
    }
    bundle.write(
        state.bundle, report=report, checks=state.checks, image=image, agent_config=state.config.as_dict(),
        options=options, timestamp=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        vuln_report=state.vuln_report_raw,
    )
