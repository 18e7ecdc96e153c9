"""Every form of the report, from the run's results: JSON, Markdown, HTML, the reproductions
beside them, and the certification bundle (--certify DIR). Written on the controller only; also for
a run refused at its start, so a CI job always finds the file it asked for."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from .. import certification, measurements
from ..contract.profile import DEFAULT, Profile, load
from ..image.config import ImageInfo
from ..report import bundle, document, html, markdown, repro
from ..report.results import aggregate
from ..wire.curl import curl_command
from ..run_state import RunState

REPORT_OPTIONS = ("report_json", "report_md", "report_html")
CERTIFICATION = pytest.StashKey[certification.Inputs]()  # --certify, --sign-key, --expected-failures, read (setup)


def write_refusal(config: pytest.Config, image_ref: str, message: str, contract: Profile | None = None) -> dict:
    """The reports of a run that could not start: every requirement `error` with `message`."""
    contract = contract or load(DEFAULT)
    results = aggregate([], set(), run_error=message, requirements=contract.requirements())
    return write(config, None, image_ref, None, results, 0.0, contract)


def write(config: pytest.Config, state: RunState | None, image_ref: str, image: ImageInfo | None, results,
          duration_s: float, contract: Profile) -> dict:
    """The report document, written in every form asked for; returns it."""
    measured = measurements.merge(state.measured) if state is not None else None
    endpoints = [e.label for e in state.config.endpoints] if state is not None else []
    engine = dict(state.context.engine) if state is not None and state.context is not None else {}
    setup = [curl_command(s.method, s.path, [("Content-Type", "application/json")] if s.json is not None else [],
                          s.body_bytes(), base_url=f"http://127.0.0.1:{contract.port}")
             for s in (state.config.setup if state is not None else ())]
    report = document.build(image_ref, image, results, duration_s, measured, endpoints, engine, contract,
                            probes=list(contract.probe_paths), setup=setup)
    inputs = config.stash.get(CERTIFICATION, None)
    if inputs is not None:
        certification.amend(report, inputs)  # identity, completeness, the attestation note, the gate
    if config.getoption("report_json"):
        document.write_json(config.getoption("report_json"), report)
    if config.getoption("report_md"):
        markdown.write_markdown(config.getoption("report_md"), report)
    if config.getoption("report_html"):
        html.write_html(config.getoption("report_html"), report)
    beside = config.getoption("report_json") or config.getoption("report_md")
    if beside:
        repro.write_reproductions(Path(beside).with_suffix(".repro.sh"), report)
    if state is not None and state.bundle is not None and not hasattr(config, "workerinput"):
        _write_bundle(config, state, report, image)
    return report


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
        vuln_report=state.vuln_report_raw, certification=config.stash[CERTIFICATION].bundle_certification(),
    )


def written(config: pytest.Config, state: RunState) -> list[str]:
    """The terminal's lines naming what was written."""
    lines = [f"report written: {config.getoption(option)}" for option in REPORT_OPTIONS if config.getoption(option)]
    if state.bundle is not None:
        lines.append(f"certification bundle written: {state.bundle}")
    return lines
