"""What the run shows on the terminal: the progress line while it works (when a person watches)
and the verdict table, the engine, the certificate's lines and the files written at its end."""

from __future__ import annotations

import contextlib
import os

import pytest

from ..progress import Progress, terminal_allowed
from ..report import terminal
from ..report.certificate import summary_lines
from ..run_state import RunState
from . import reports
from .setup import is_controller


def progress_line(config: pytest.Config) -> Progress:
    """The progress line, when a person watches the terminal; written with pytest's capture
    suspended (a check's output is captured while it runs)."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or not terminal_allowed(bool(reporter.isatty), config.get_verbosity(), dict(os.environ),
                                                worker=not is_controller(config)):
        return Progress()
    writer = config.get_terminal_writer()

    def write(text: str) -> None:
        with capture.global_and_fixture_disabled() if capture is not None else contextlib.nullcontext():
            writer.write(text, flush=True)

    return Progress(write, width=writer.fullwidth)


def summary(terminalreporter, config: pytest.Config, state: RunState) -> None:
    """The run's section of pytest's terminal summary."""
    report = state.report
    terminalreporter.section("agent conformance")
    if state.daemon_lost:
        terminalreporter.write_line(f"agent-conformance: run stopped: {state.run_error}", red=True, bold=True)
    for i, line in enumerate(terminal.render_terminal(report)):
        color = {"pass": "green", "incomplete": "yellow"}.get(report["verdict"], "red") if i == 0 else None
        terminalreporter.write_line(line, **({color: True, "bold": True} if color else {}))
    for line in (terminal.engine_line(report), terminal.latency_line(report)):
        if line:
            terminalreporter.write_line(line)
    for line in summary_lines(report):  # identity, the attestation, the --expected-failures gate
        terminalreporter.write_line(line)
    for line in reports.written(config, state):
        terminalreporter.write_line(line)
