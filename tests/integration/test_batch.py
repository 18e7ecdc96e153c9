"""`agent-conformance batch` on twenty images at once (reference-like samples under distinct tags,
and broken ones): each gets the verdict it gets alone (its expected.toml, which
tests/integration/test_matrix.py asserts of runs alone), nothing the runs started is left in the
engine, and the fleet summary shows the right grid. One batch for the whole module: it is the
costly part."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.candidate.labels import owner_host
from samplekit import matrix, samples
from tests.helpers import labelled_owners, owner_alive
from tests.integration.test_vulns_gate import for_image

BROKEN = ["broken/health-text", "broken/ready-text", "broken/health-204", "broken/no-expose", "broken/reserved-env",
          "broken/declares-volume", "broken/json-as-html", "broken/html-error-pages", "broken/no-command",
          "broken/home-cache"]
COPIES = 8  # the reference agent under as many more tags: the same image, judged as different ones
JOBS = 2  # a 2-core host's default (one per core): the verdicts must not change under it
BATCH_CAP_S = 900  # about 2 min on an idle 2-core host


@pytest.fixture(scope="module")
def fleet(docker_client, tmp_path_factory):
    built = {s.name: s for s in samples.build_all(["reference", "stdlib", *BROKEN], log=lambda message: None)}
    reference = docker_client.images.get(built["reference"].tag)
    copies = [f"agent-conformance/fleet-test-reference-{i}:latest" for i in range(COPIES)]
    for ref in copies:
        reference.tag(*ref.rsplit(":", 1))
    try:
        # The samples with an agent config get it from the list, as a user's vendors would, and each a
        # scanner's report of its image (a certification without one is incomplete).
        expected = {s.tag: s for s in built.values()} | {ref: built["reference"] for ref in copies}
        work = tmp_path_factory.mktemp("batch")
        tables = []
        for i, (ref, sample) in enumerate(expected.items()):
            scan = for_image("trivy-clean.json", docker_client.images.get(ref).id, work / f"trivy-{i}.json")
            tables.append(f'[[image]]\nref = "{ref}"\nvuln_report = "{scan}"\n'
                          + (f'agent_config = "{sample.agent_config}"\n' if sample.agent_config else ""))
        (work / "images.toml").write_text("\n".join(tables))
        out = work / "bundles"
        process = subprocess.Popen([sys.executable, "-m", "conformance.cli", "batch", str(work / "images.toml"),
                                    "--out", str(out), "--jobs", str(JOBS)], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, env={**os.environ, "CI": "true"})
        try:
            stdout, stderr = process.communicate(timeout=BATCH_CAP_S)
        except subprocess.TimeoutExpired:
            process.terminate()  # the batch stops its runs, and they remove their containers
            stdout, stderr = process.communicate(timeout=120)
            pytest.fail(f"the batch did not finish within {BATCH_CAP_S} s:\n{stdout[-3000:]}")
        run = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
        yield run, out, expected
    finally:
        for ref in copies:
            docker_client.images.remove(ref, noprune=True)  # the tag only


def test_twenty_images_at_once_each_get_the_verdict_they_get_alone(fleet):
    run, out, expected = fleet
    assert len(expected) == 20
    assert run.returncode == 1, run.stdout + run.stderr  # some fail, none without a verdict
    problems = {}
    for ref, sample in expected.items():
        folder = out / "".join(c if c.isalnum() or c in "._-" else "_" for c in ref)
        record = json.loads((out / "_batch" / f"{folder.name}.json").read_text())
        report = json.loads((folder / "report.json").read_text())
        found = matrix.compare(sample.expected, report, record["exit_code"])
        if record["status"] != sample.expected.verdict:
            found.append(f"batch status {record['status']} ({record['reason']})")
        if found:
            problems[ref] = found
        assert subprocess.run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=folder, timeout=60).returncode == 0
    assert not problems, json.dumps(problems, indent=1) + "\n" + run.stdout
    lines = [line for line in run.stdout.splitlines() if line.startswith(("pass ", "fail "))]
    assert len(lines) == 20 and "20 images in" in run.stdout


def test_nothing_the_runs_started_is_left(fleet, docker_client):
    mine = f"{owner_host()}:"
    left = [name for name, owner in labelled_owners(docker_client) if owner.startswith(mine) and not owner_alive(owner)]
    assert not left, f"left behind by the batch's runs: {left}"


def test_the_summary_grid_is_each_image_s_report(fleet):
    run, out, expected = fleet
    document = json.loads((out / "summary.json").read_text())
    rows = {row["ref"]: row for row in document["images"]}
    assert set(rows) == set(expected)
    assert document["totals"] == {
        "images": 20, "pass": sum(s.expected.verdict == "pass" for s in expected.values()),
        "fail": sum(s.expected.verdict == "fail" for s in expected.values()), "incomplete": 0, "unverified": 0,
        "no_verdict": 0}
    for ref, sample in expected.items():
        assert set(rows[ref]["failed"]) == sample.expected.fail, ref
        assert (out / rows[ref]["report"]).is_file()
    counts = {r["id"]: r["fail"] for r in document["requirements"]}
    for rid in {rid for s in expected.values() for rid in s.expected.fail}:
        assert counts[rid] == sum(rid in s.expected.fail for s in expected.values()), rid
    page = (out / "index.html").read_text()
    for ref, row in rows.items():
        for rid, status in row["statuses"].items():
            assert f'title="{rid}: {status}"><a href="{row["report"]}#{rid}"' in page


def test_a_killed_run_s_containers_are_removed_by_the_batch(docker_client, tmp_path, monkeypatch):
    """A run that cannot unwind (SIGKILL at its cap, no grace) leaves its candidates; the batch
    finds them by the run's label and removes them."""
    from conformance.fleet import engine, runner
    from conformance.fleet.plan import Entry
    from tests.helpers import leftovers

    # An agent with a model's latency: its run (about 27 s) is surely mid-way at the 8 s cap, not
    # removing its own containers as the reference's (about 5 s at full speed) may be by then.
    reference = samples.build_all(["model-latency"], log=lambda message: None)[0]
    seen = {}

    def kill_at_once(process):
        seen["left"] = leftovers(docker_client, engine.run_owner(process.pid))  # still there: the run is alive
        seen["cpus"] = {docker_client.api.inspect_container(c["Id"])["HostConfig"]["NanoCpus"]
                        for c in docker_client.api.containers(filters={"label": f"{engine.LABEL_OWNER}={engine.run_owner(process.pid)}"})
                        if (c.get("Labels") or {}).get(f"{engine.LABEL}.role") != "helper"}  # candidates, not helpers
        os.killpg(process.pid, 9)
        process.wait(timeout=30)

    monkeypatch.setattr(runner, "_terminate", kill_at_once)
    the_engine = engine.Engine()
    try:
        outcome = runner.run(Entry(reference.tag), tmp_path, tmp_path / "run.log", timeout_s=8.0, cpus=0.75,
                             engine=the_engine, stop=__import__("threading").Event())
    finally:
        the_engine.close()
    assert outcome.status == "timeout" and outcome.exit_code == -9
    assert seen["left"], "the run had no container up at its cap: nothing was tested"
    assert seen["cpus"] == {750_000_000}  # the batch's --cpus reached every candidate
    assert outcome.removed >= 1  # not always all it saw: one may have been going already when the run was killed
    assert not [name for name, who in labelled_owners(docker_client) if who.startswith(f"{owner_host()}:")
                and not owner_alive(who)], "left behind after the kill"
