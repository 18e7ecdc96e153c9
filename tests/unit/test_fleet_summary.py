"""`agent-conformance summarize`: bundles found wherever they were put, verified before they are
read, merged into summary.json, summary.md and one self-contained index.html whose grid says,
for each image and requirement, what its report says, and links there."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conformance.contract.catalogue import EVERY_REQUIREMENT
from conformance.fleet import bundles, command, summary
from conformance.fleet.plan import Entry
from conformance.report import bundle
from conformance.report.results import INTERRUPTED
from tests.unit.fleet_bundles import IMAGE_ID, make_bundle

REQS = ["IMAGE-PLATFORM", "READY-200", "HEALTH-JSON", "STARTUP-TIME"]


def test_bundles_are_found_as_a_batch_ci_and_kubernetes_leave_them(tmp_path):
    make_bundle(tmp_path / "batch" / "a_1", "a:1")
    make_bundle(tmp_path / "ci" / "bundle-b_2" / "b_2", "b:2")  # an artifact's folder around the bundle
    single = make_bundle(tmp_path / "c_3", "c:3")
    (tmp_path / "batch" / "a_1" / "logs" / "report.json").write_text("{}")  # not a bundle of its own
    found = bundles.find([tmp_path / "batch", tmp_path / "ci", single, tmp_path / "batch"])
    assert [p.name for p in found] == ["a_1", "b_2", "c_3"]


def test_a_bundle_that_does_not_verify_is_never_read(tmp_path):
    good = make_bundle(tmp_path / "good", "a:1")
    assert bundles.read(good).verified and bundles.read(good).image_id == IMAGE_ID
    changed = make_bundle(tmp_path / "changed", "a:1", {"READY-200": "fail"})
    report = json.loads((changed / "report.json").read_text())
    report["verdict"] = "pass"
    (changed / "report.json").write_text(json.dumps(report))
    (changed / bundle.SUMS).write_text(bundle.sha256sums(changed))  # as a forger would
    problems = bundles.read(changed).problems
    assert any(p.startswith("signed-files: differs from the statement: report.json") for p in problems), problems
    assert any(p.startswith("verdict:") for p in problems) and bundles.read(changed).report == {}
    unsummed = make_bundle(tmp_path / "unsummed", "a:1")
    (unsummed / bundle.SUMS).unlink()
    assert "files: missing: SHA256SUMS" in bundles.read(unsummed).problems
    assert bundles.read(tmp_path / "absent").problems == (f"{tmp_path / 'absent'}: not a directory",)


def test_an_interrupted_run_s_bundle_verifies_but_is_not_complete(tmp_path):
    stopped = make_bundle(tmp_path / "stopped", "a:1", {"READY-200": "error"}, interrupted=True)
    assert INTERRUPTED in json.dumps(bundles.read(stopped).report)
    assert bundles.read(stopped).verified and not bundles.read(stopped).complete


@pytest.fixture
def fleet(tmp_path) -> Path:
    root = tmp_path / "bundles"
    make_bundle(root / "a_1", "a:1")
    make_bundle(root / "b_1", "b:1", {"READY-200": "fail", "HEALTH-JSON": "error", "STARTUP-TIME": "fail"})
    make_bundle(root / "c_1", "c:1", {"IMAGE-PLATFORM": "fail"}, profile_name="cloud-run")  # no /ready there
    make_bundle(root / "g_1", "g:1", {"NO-CRITICAL-VULNS": "skip"})  # a certification without a scanner report
    forged = make_bundle(root / "d_1", "d:1")
    (forged / "report.html").write_text("<html>edited</html>")
    records = root / "_batch"
    records.mkdir()
    (records / "e_1.json").write_text(json.dumps({"ref": "e:1", "status": "timeout", "reason": "did not finish within 900 s"}))
    return root


def test_the_summary_counts_what_each_verified_report_says(fleet, tmp_path):
    out = tmp_path / "summary"
    document = summary.build([fleet], out, expected=[Entry("a:1"), Entry("f:1")])
    assert document["totals"] == {"images": 7, "pass": 1, "fail": 2, "incomplete": 1, "unverified": 1, "no_verdict": 2}
    rows = {row["ref"]: row for row in document["images"]}
    assert set(rows) == {"a:1", "b:1", "c:1", "g:1"}
    assert rows["g:1"]["verdict"] == "incomplete" and rows["g:1"]["unchecked_must"] == ["NO-CRITICAL-VULNS"]
    assert rows["b:1"]["failed"] == ["READY-200", "STARTUP-TIME"] and rows["c:1"]["failed"] == ["IMAGE-PLATFORM"] and rows["b:1"]["errors"] == ["HEALTH-JSON"]
    assert rows["c:1"]["profile"] == "cloud-run" and rows["a:1"]["report"] == "../bundles/a_1/report.html"
    counts = {r["id"]: (r["fail"], r["error"], r["images"]) for r in document["requirements"]}
    assert {rid: counts[rid] for rid in REQS} == {"IMAGE-PLATFORM": (1, 0, 1), "READY-200": (1, 0, 1),
                                                  "HEALTH-JSON": (0, 1, 1), "STARTUP-TIME": (1, 0, 1)}
    assert "READY-200" not in rows["c:1"]["statuses"]  # not in that profile: a blank cell
    assert sum(images for _, _, images in counts.values()) == 4  # nothing else failed anywhere
    order = [r.id for r in EVERY_REQUIREMENT]
    assert [r["id"] for r in document["requirements"]] == sorted(counts, key=order.index)  # the catalogue's order
    (unverified,) = document["unverified"]
    assert unverified["bundle"] == "../bundles/d_1" and "sha256sums: changed: report.html" in unverified["problems"]
    assert document["no_verdict"] == [
        {"ref": "e:1", "status": "timeout", "reason": "did not finish within 900 s", "bundle": ""},
        {"ref": "f:1", "status": "missing", "reason": "no bundle and no record of a run", "bundle": ""}]


def test_a_bundle_without_a_verdict_is_listed_apart_and_counts_nowhere(tmp_path):
    root = tmp_path / "bundles"
    make_bundle(root / "a_1", "a:1", {"READY-200": "fail"})
    make_bundle(root / "b_1", "b:1", {"READY-200": "error"}, interrupted=True)
    make_bundle(root / "c_1", "c:1", image_id="", run_error="image 'c:1' is not in the local engine")
    make_bundle(root / "d_1", "d:1", {"READY-200": "error"})
    (root / "_batch").mkdir()
    for folder, reason in (("c_1", "exited with status 2: image 'c:1' is not in the local engine"),
                           ("d_1", "exited with status 2")):
        (root / "_batch" / f"{folder}.json").write_text(json.dumps({"ref": folder.replace("_", ":"), "status": "error",
                                                                     "reason": reason}))
    document = summary.build([root], tmp_path)
    assert [r["ref"] for r in document["images"]] == ["a:1"] and not document["unverified"]
    assert [(m["ref"], m["status"], m["reason"]) for m in document["no_verdict"]] == [
        ("b:1", "interrupted", "the run was stopped before it decided every requirement"),
        ("c:1", "error", "exited with status 2: image 'c:1' is not in the local engine"),
        ("d:1", "error", "exited with status 2")]
    assert next(r for r in document["requirements"] if r["id"] == "READY-200")["images"] == 1


def test_only_keeps_a_batch_s_summary_to_its_own_list(fleet, tmp_path):
    document = summary.build([fleet], tmp_path, only=[Entry("a:1"), Entry("e:1")])
    assert [r["ref"] for r in document["images"]] == ["a:1"] and not document["unverified"]
    assert [m["ref"] for m in document["no_verdict"]] == ["e:1"]


class Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.loads, self.cells, self.scripts = [], [], {}, 0
        self._row: list = []
        self._cell_class = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a":
            self.links.append(attrs["href"])
        if tag in ("img", "link", "iframe", "object", "embed") or "src" in attrs:
            self.loads.append(tag)
        if tag == "script":
            self.scripts += 1
        if tag == "td" and "cell" in (attrs.get("class") or "") and "title" in attrs:
            rid, status = attrs["title"].split(": ")
            self.cells.setdefault(rid, []).append(status)


def test_the_page_is_the_grid_and_loads_nothing(fleet, tmp_path):
    out = tmp_path / "summary"
    written = summary.write(summary.build([fleet], out), out)
    page = written.html.read_text()
    parsed = Page()
    parsed.feed(page)
    assert parsed.loads == [] and parsed.scripts == 0
    assert "default-src 'none'" in page
    # Every cell links to its image's report at that requirement, and the file is there.
    cell_links = [link for link in parsed.links if "#" in link]
    rows = summary.build([fleet], out)["images"]
    assert "../bundles/b_1/report.html#READY-200" in cell_links and len(cell_links) == sum(len(r["statuses"]) for r in rows)
    assert all((out / link.split("#")[0]).is_file() for link in parsed.links)
    assert parsed.cells["READY-200"] == ["pass", "fail", "pass"]  # rows by reference: a, b, (c: blank), g
    assert parsed.cells["IMAGE-PLATFORM"] == ["pass", "pass", "fail", "pass"]
    assert parsed.cells["HEALTH-JSON"] == ["pass", "error", "pass"]
    assert parsed.cells["NO-CRITICAL-VULNS"] == ["pass", "pass", "skip"]  # not in the cloud-run profile
    assert "Bundles that do not verify" in page and "../bundles/d_1" in page and "e:1" in page
    assert json.loads(written.json.read_text())["totals"]["images"] == 6
    markdown = written.markdown.read_text()
    assert "| `b:1` | **fail** | READY-200, STARTUP-TIME | HEALTH-JSON |" in markdown, markdown
    assert re.search(r"\| READY-200 \| MUST \| 1 \| 0 \| 1 of 4 \|", markdown), markdown
    assert "| `g:1` | **incomplete** (NO-CRITICAL-VULNS not checked) | - | - |" in markdown


def test_everything_read_from_a_bundle_is_escaped(tmp_path):
    root = tmp_path / "bundles"
    hostile = '"><script>alert(1)</script>|`x`'
    make_bundle(root / "x", hostile, {"READY-200": "fail"})
    assert bundles.read(root / "x").verified
    (root / "_batch").mkdir()
    (root / "_batch" / "y.json").write_text(json.dumps({"ref": "<img src=x>", "status": "crash", "reason": "<b>"}))
    out = tmp_path / "out"
    written = summary.write(summary.build([root], out), out)
    page = written.html.read_text()
    assert "<script>" not in page and "<img" not in page and "<b>" not in page
    assert "&lt;script&gt;" in page
    row = next(line for line in written.markdown.read_text().splitlines() if "alert" in line)
    assert "\\|" in row and "`x`" not in row


def test_summarize_command_writes_and_refuses_nothing_to_summarize(fleet, tmp_path, capsys):
    out = tmp_path / "s"
    assert command.summarize_main([str(fleet), "--out", str(out)]) == 0
    assert "6 images: 1 pass, 2 fail, 1 incomplete, 1 bundles that do not verify, 1 without a verdict" in capsys.readouterr().out
    assert {p.name for p in out.iterdir()} == {"summary.json", "summary.md", "index.html"}
    (tmp_path / "empty").mkdir()
    assert command.summarize_main([str(tmp_path / "empty"), "--out", str(out)]) == 2
    assert "no bundle under" in capsys.readouterr().err
    assert command.summarize_main([str(tmp_path / "absent")]) == 2
