"""What the suite derives from the catalogue and the checks' markers, and the one vocabulary of
requirement IDs: every ID the package's code names is one the catalogue knows."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import conformance
from conformance import suite
from conformance.candidate.readiness import StartupState
from conformance.contract import catalogue
from conformance.contract.catalogue import Phase
from conformance.lifecycle.session import TRIALS

PACKAGE = Path(conformance.__file__).parent
ID_SHAPED = re.compile(r"\b[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+\b")
NOT_IDS = {"UTF-8", "OTHER-ID", "EVENT-STREAM", "SHA-256", "P-256"}  # words of that shape that name no requirement


def _string_constants(path: Path):
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value


def test_every_id_the_code_names_is_in_the_catalogue():
    unknown = [f"{path.relative_to(PACKAGE.parent)}:{line}: {token}"
               for path in sorted(PACKAGE.rglob("*.py")) for line, text in _string_constants(path)
               for token in ID_SHAPED.findall(text) if token not in catalogue.BY_ID and token not in NOT_IDS]
    assert unknown == []


def test_every_requirement_has_a_check():
    assert suite.implemented_ids() == set(catalogue.BY_ID)  # the OCI contract's and the other profiles' rules


def test_each_way_a_start_can_fail_has_one_owner():
    failing = {s.value for s in StartupState} - {StartupState.READY, StartupState.STAND_IN}
    owned = [state for r in catalogue.CATALOGUE for state in r.startup_failures]
    assert sorted(owned) == sorted(failing)  # each exactly once, and no state that does not exist
    assert catalogue.startup_owner(StartupState.READY) == ""
    assert catalogue.startup_owner(StartupState.EXITED) == "STARTUP-TIME"


def test_trials_named_in_the_catalogue_exist():
    named = {trial for r in catalogue.CATALOGUE for trial in r.trials}
    assert named <= TRIALS
    assert catalogue.trials_for({"GRACEFUL-SHUTDOWN"}) == {"exercise", "restart"}
    assert catalogue.trials_for({"HEALTH-200", "NO-SUCH-ID"}) == set()


def test_lifecycle_requirements_are_those_with_trials_and_run_late():
    # The watch (STAYS-UP) runs after every check on the shared candidate, before the trials' checks.
    assert Phase.FUZZ < Phase.WATCH < Phase.LIFECYCLE
    assert catalogue.LIFECYCLE_IDS == {r.id for r in catalogue.CATALOGUE if r.phase >= Phase.WATCH}
    assert all(r.phase < Phase.WATCH for r in catalogue.CATALOGUE if r.id not in catalogue.LIFECYCLE_IDS)


@pytest.mark.parametrize("rid, phase", [("IMAGE-PLATFORM", Phase.IMAGE), ("READY-200", Phase.SERVE),
                                        ("ROBUST-INPUT", Phase.FUZZ), ("GRACEFUL-SHUTDOWN", Phase.LIFECYCLE),
                                        ("STAYS-UP", Phase.WATCH)])
def test_phases_order_the_run(rid, phase):
    assert catalogue.get(rid).phase == phase
