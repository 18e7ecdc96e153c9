"""The catalogue in code is the contract of docs/contract/requirements.md, ID for ID."""

import re
from pathlib import Path

import pytest

from conformance.contract import catalogue as requirements

DOCS = Path(__file__).resolve().parents[2] / "docs" / "contract" / "requirements.md"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "contract" / "requirements.md"


def table(path: Path) -> dict[str, str]:
    return dict(re.findall(r"^\| ([A-Z0-9-]+) \| (MUST|SHOULD) \|", path.read_text(), re.M))


def test_catalogue_has_every_id_of_the_contract_with_its_level():
    documented = table(DOCS)
    assert documented and {r.id: r.level for r in requirements.CATALOGUE} == documented


def test_catalogue_order_follows_the_contract():
    assert list(requirements.IDS) == list(table(DOCS))


def test_vendored_contract_is_the_shared_one():
    if not SHARED.exists():
        pytest.skip(f"{SHARED} is not on this machine")
    assert DOCS.read_text() == SHARED.read_text()


def test_every_requirement_has_title_source_and_fix():
    for r in requirements.CATALOGUE:
        assert r.title and r.source and r.fix, r.id


def test_image_only_requirements_need_no_container():
    static = {r.id for r in requirements.CATALOGUE if not r.needs_container}
    assert static == {r.id for r in requirements.CATALOGUE if r.phase == requirements.Phase.IMAGE}
    assert {"IMAGE-PLATFORM", "NO-CRITICAL-VULNS"} <= static and "READY-200" not in static
    assert set(requirements.RUNTIME_IDS) == set(requirements.BY_ID) - static


def test_unknown_id_is_named():
    with pytest.raises(KeyError, match="READY-2000"):
        requirements.get("READY-2000")


def test_readme_tables_list_the_catalogue_in_order():
    # The OCI contract's table, then the other profiles' new IDs.
    readme = Path(__file__).resolve().parents[2] / "README.md"
    assert list(table(readme).items()) == [(r.id, r.level) for r in requirements.EVERY_REQUIREMENT]


def test_readme_counts_each_profiles_requirements_as_the_profile_does():
    from conformance.contract import profile

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    rows = dict(re.findall(r"^\| `([a-z-]+)`[^|]*\|(?:[^|]*\|){3} (\d+ \(\d+ MUST, \d+ SHOULD\)) \|", readme, re.M))
    assert set(rows) == set(profile.names())
    for name in profile.names():
        chosen = profile.load(name).requirements()
        musts = sum(r.level == "MUST" for r in chosen)
        assert rows[name] == f"{len(chosen)} ({musts} MUST, {len(chosen) - musts} SHOULD)", name
