"""The conformance checks: one module per contract area, each check marked with the requirement ID it decides."""

from __future__ import annotations

import importlib
from pathlib import Path

from ..run_state import MARKER


def checks_by_id() -> dict[str, list[str]]:
    """Requirement ID → its checks (`suite/test_probes.py::test_health_answers_200`), read from
    the checks' markers in every `test_*.py` of this folder: a new module is found by itself."""
    found: dict[str, list[str]] = {}
    for path in sorted(Path(__file__).parent.glob("test_*.py")):
        module = importlib.import_module(f"{__name__}.{path.stem}")
        for name, check in vars(module).items():
            for mark in getattr(check, "pytestmark", []) if callable(check) else []:
                if getattr(mark, "name", "") == MARKER and mark.args:
                    found.setdefault(mark.args[0], []).append(f"suite/{path.name}::{name}")
    return found


def implemented_ids() -> set[str]:
    """The requirement IDs some check of the suite is marked with, read from the checks' markers.
    Under xdist the controller collects nothing, and a run given some of the modules collects only
    those: either way the report must tell "not implemented" from "not selected"."""
    return set(checks_by_id())
