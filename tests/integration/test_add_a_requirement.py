"""docs/DEVELOPING.md's "Adding a requirement check", followed to the letter in a temporary copy of
the repository: a throwaway ID (DRILL-LABEL) gets its catalogue entry, one check, one broken
sample and its table rows, and nothing else. The copy's own tests then see it checked, the
command lists it with its check, and the matrix asserts it on real containers (the broken sample
fails it, the reference passes it). When the recipe misses a step, this test says which."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import docker
import pytest

from tests.helpers import REPO

DRILL = "DRILL-LABEL"
SAMPLE = "broken/drill-label"
TAG = "agent-conformance/sample-broken-drill-label:latest"

CATALOGUE_ENTRY = '''    Requirement(
        "DRILL-LABEL", SHOULD, "The image does not carry the label drill=broken.",
        "A throwaway requirement: tests/integration/test_add_a_requirement.py follows the recipe with it.",
        "Remove `LABEL drill=broken` from the Dockerfile.",
        phase=Phase.IMAGE,
    ),
'''
CHECK = '''"""The drill's one check (tests/integration/test_add_a_requirement.py)."""

import pytest

from conformance.check import fail


@pytest.mark.requirement("DRILL-LABEL")
def test_image_is_not_labelled_broken(image_info, evidence):
    label = image_info.label("drill")
    evidence.append(f"label drill={label or '(none)'}")
    if label == "broken":
        fail("the image carries the label drill=broken")
'''
DOCKERFILE = '''# The reference agent with the one defect the drill's requirement names.
ARG REFERENCE=agent-conformance/sample-reference:latest
FROM ${REFERENCE}
LABEL drill=broken
'''
EXPECTED = 'verdict = "pass"\nfail = ["DRILL-LABEL"]\nerror = []\n'
TABLE_ROW = ("| DRILL-LABEL | SHOULD | The image does not carry the label `drill=broken`. | "
             "A throwaway requirement of the recipe's test. |\n")


def _copy_of_the_checkout(into: Path) -> Path:
    """The files git knows (tracked, or new and not ignored): no caches, no wheelhouse."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True, check=True, timeout=60).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, into / name)
    return into


def _insert_before(path: Path, marker: str, text: str) -> None:
    """Put `text` right before the first line that starts with `marker` after the first match."""
    body = path.read_text()
    at = body.index(marker)
    path.write_text(body[:at] + text + body[at:])


def _follow_the_recipe(copy: Path) -> None:
    # 1. The catalogue entry, at its place in CATALOGUE (last here, after NO-CRITICAL-VULNS).
    _insert_before(copy / "conformance/contract/catalogue.py", ")\n\n# Rules of other platforms", CATALOGUE_ENTRY)
    # 2. One check function, in a new area module (picked up by itself).
    (copy / "conformance/suite/test_drill.py").write_text(CHECK)
    # 3. One broken sample with its expected.toml.
    sample = copy / "sample_agents" / SAMPLE
    sample.mkdir(parents=True)
    (sample / "Dockerfile").write_text(DOCKERFILE)
    (sample / "expected.toml").write_text(EXPECTED)
    # 4. The table rows: the README's and docs/contract/requirements.md's, after NO-CRITICAL-VULNS;
    #    and the README's count of the default profile's requirements.
    for doc in (copy / "README.md", copy / "docs/contract/requirements.md"):
        body = doc.read_text()
        row_end = body.index("\n", body.index("| NO-CRITICAL-VULNS |")) + 1
        doc.write_text(body[:row_end] + TABLE_ROW + body[row_end:])
    readme = copy / "README.md"
    counted = re.compile(r"^(\| `oci-hosted`.*?\| )(\d+) \((\d+) MUST, (\d+) SHOULD\)", re.M)
    readme.write_text(counted.sub(lambda m: f"{m[1]}{int(m[2]) + 1} ({m[3]} MUST, {int(m[4]) + 1} SHOULD)",
                                  readme.read_text(), count=1))


def _run(copy: Path, *args: str, timeout: float) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(copy)}  # the copy's package, not the checkout's
    return subprocess.run([sys.executable, *args], cwd=copy, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def drilled_copy(tmp_path):
    copy = _copy_of_the_checkout(tmp_path / "checkout")
    _follow_the_recipe(copy)
    yield copy
    try:
        docker.from_env(timeout=30).images.remove(TAG, force=True)
    except docker.errors.DockerException:
        pass


def test_the_recipe_adds_a_checked_reported_and_asserted_requirement(drilled_copy):
    copy = drilled_copy
    # The copy's own tests of the catalogue, the tables and the profiles hold with the new ID.
    unit = _run(copy, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/unit/test_catalogue_derivations.py",
                "tests/unit/test_requirements_catalogue.py", "tests/unit/test_profiles.py", timeout=300)
    assert unit.returncode == 0, unit.stdout[-3000:] + unit.stderr[-2000:]
    # The command lists it, with the check that decides it.
    listed = _run(copy, "-m", "conformance.cli", "--list-requirements", timeout=60)
    assert listed.returncode == 0, listed.stderr
    at = listed.stdout.index(DRILL)
    assert "check: suite/test_drill.py::test_image_is_not_labelled_broken" in listed.stdout[at:].splitlines()[1]
    # The matrix builds the sample and asserts it on real containers: the drill fails exactly its
    # new ID, the reference passes it (its expected.toml needed no change).
    matrix = _run(copy, "-m", "conformance.cli", "matrix", SAMPLE, "reference", timeout=600)
    assert matrix.returncode == 0, matrix.stdout[-3000:] + matrix.stderr[-3000:]
    assert "2 samples: 2 as expected, 0 mismatched" in matrix.stdout


def test_the_recipe_names_every_step_this_test_takes():
    recipe = (REPO / "docs" / "DEVELOPING.md").read_text().split("## Adding a requirement check", 1)[1]
    recipe = recipe.split("\n## ", 1)[0]
    for step in ("conformance/contract/catalogue.py", "conformance/suite/test_<area>.py", "expected.toml",
                 "README", "docs/contract/requirements.md", 'requirements = "catalogue"', "[requirements.NEW-ID]",
                 "test_add_a_requirement.py"):
        assert step in recipe, step
