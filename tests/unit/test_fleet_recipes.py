"""The fleet recipes kept in the repository, checked offline: the GitHub Actions reusable workflow
with actionlint; the GitLab pipeline's wiring (matrix, needs, artifacts) read from its YAML
(gitlab-ci-local needs npm, which this machine cannot reach); the Kubernetes objects that
`batch --emit kubernetes` prints, against the Kubernetes schemas (kubernetes-validate). No
cluster and no CI service runs them here."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.fleet import command, kubernetes, plan, yamlish
from conformance.fleet.plan import Entry

yaml = pytest.importorskip("yaml", reason="PyYAML comes with the dev extra (pip install -e '.[dev]')")

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / ".github" / "workflows" / "agent-conformance-fleet.yml"
GITLAB = REPO / "recipes" / "gitlab" / "agent-conformance-fleet.yml"
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    found = shutil.which(name, path=str(BIN))
    if not found:
        pytest.skip(f"{name} is not installed beside {sys.executable} (pip install -e '.[dev]')")
    return found


# -- GitHub Actions ------------------------------------------------------------------------------


def test_the_reusable_workflow_passes_actionlint():
    run = subprocess.run([tool("actionlint"), "-no-color", str(WORKFLOW)], capture_output=True, text=True,
                         timeout=60, check=False)
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_reusable_workflow_runs_the_action_per_image_then_summarizes_every_bundle():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    assert set(workflow[True]) == {"workflow_call"}  # `on:` (YAML 1.1 reads it as true): only ever called
    certify, summarize = workflow["jobs"]["certify"], workflow["jobs"]["summarize"]
    assert certify["strategy"]["fail-fast"] is False
    assert certify["strategy"]["matrix"]["include"] == "${{ fromJSON(inputs.images) }}"
    steps = {step.get("name", step.get("uses")): step for step in certify["steps"]}
    action = steps["Run the conformance suite"]
    assert action["uses"] == "./.agent-conformance" and (REPO / "action.yml").is_file()  # this repository's action
    assert action["with"]["certify"] == "bundles/${{ steps.name.outputs.folder }}"
    upload = steps["Keep the bundle"]
    assert upload["if"] == "always()" and upload["with"]["path"] == "bundles/"
    assert upload["with"]["name"].startswith("bundle-")
    assert summarize["needs"] == "certify" and summarize["if"] == "always()"
    download = next(s for s in summarize["steps"] if "download-artifact" in s.get("uses", ""))
    assert download["with"] == {"pattern": "bundle-*", "path": "bundles", "merge-multiple": True}
    run = next(s["run"] for s in summarize["steps"] if "summarize" in s.get("run", ""))
    assert "agent-conformance summarize bundles --out fleet-summary" in run


# -- GitLab CI -----------------------------------------------------------------------------------


def test_the_gitlab_pipeline_fans_out_over_images_and_summarizes_their_artifacts():
    pipeline = yaml.safe_load(GITLAB.read_text())
    stages = pipeline["stages"]
    certify, summarize = pipeline["certify"], pipeline["summarize"]
    assert stages.index(certify["stage"]) < stages.index(summarize["stage"])
    matrix = certify["parallel"]["matrix"]
    assert matrix and all("IMAGE" in entry for entry in matrix)
    jobs = sum(len(e["IMAGE"]) if isinstance(e["IMAGE"], list) else 1 for e in matrix)
    assert 1 < jobs <= 200  # GitLab's limit on one matrix
    # The engine is the dind service, reached by its alias.
    (service,) = certify["services"]
    assert service["name"].endswith("-dind") and certify["variables"]["DOCKER_HOST"].startswith(f"tcp://{service['alias']}:")
    script = "\n".join(certify["script"])
    assert 'docker pull "$IMAGE"' in script and "agent-conformance batch - --index 0 --out bundles" in script
    assert certify["artifacts"]["when"] == "always" and certify["artifacts"]["paths"] == ["bundles/"]
    assert certify["artifacts"]["reports"]["junit"] == "bundles/*/junit.xml"
    assert summarize["needs"] == [{"job": "certify", "artifacts": True}] and summarize["when"] == "always"
    assert "agent-conformance summarize bundles --out fleet-summary" in summarize["script"]
    assert summarize["artifacts"]["paths"] == ["fleet-summary/"]


def test_the_gitlab_job_s_batch_line_works_as_the_shell_runs_it(tmp_path):
    """The certify job's command line under `sh`, with and without the optional variables: the
    arguments the batch gets, and the one-line list on its standard input."""
    line = next(s for s in yaml.safe_load(GITLAB.read_text())["certify"]["script"] if "batch -" in s)
    echo = f"{sys.executable} -c 'import json, sys; print(json.dumps([sys.argv[1:], sys.stdin.read()]))'"
    line = line.replace("/venv/bin/agent-conformance", echo)
    base = ["batch", "-", "--index", "0", "--out", "bundles"]
    for extra, expected in (({}, base), ({"AGENT_CONFIG": "a b.toml"}, base + ["--agent-config", "a b.toml"]),
                            ({"VULN_REPORT": "scan.json"}, base + ["--", "--vuln-report", "scan.json"])):
        run = subprocess.run(["sh", "-c", line], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                             env={**os.environ, "IMAGE": "a/b:1", **extra}, check=False)
        assert run.returncode == 0, run.stderr
        assert json.loads(run.stdout) == [expected, "a/b:1\n"]


# -- Kubernetes ----------------------------------------------------------------------------------


def test_the_emitted_objects_pass_the_kubernetes_schemas(tmp_path):
    config = tmp_path / "vendor.toml"
    config.write_text('profile = "cloud-run"\n[budgets]\nstartup_s = 60\n')
    entries = [Entry("registry.example.com/vendor-a/agent:1.4"), Entry("vendor-b/agent@sha256:" + "0" * 64, config, "cloud-run")]
    manifest = tmp_path / "fleet.yaml"
    manifest.write_text(kubernetes.emit(entries, name="fleet-2026-12", parallelism=2))
    run = subprocess.run([tool("kubernetes-validate"), "--strict", str(manifest)], capture_output=True, text=True,
                         timeout=120, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.count("passed") == 4


def test_the_indexed_job_gives_each_pod_one_image_and_the_summary_waits_for_all(tmp_path):
    config = tmp_path / "vendor.toml"
    config.write_text('[budgets]\nstartup_s = 60\n')
    scan = tmp_path / "trivy.json"
    scan.write_text('{"SchemaVersion": 2, "Results": []}')
    entries = [Entry("a/agent:1"), Entry("b/agent:2", config, "knative", scan), Entry("c/agent:3")]
    objects = list(yaml.safe_load_all(kubernetes.emit(entries, name="fleet", parallelism=2, timeout_s=600, token="t0k")))
    assert [o["kind"] for o in objects] == ["ConfigMap", "PersistentVolumeClaim", "Job", "Job"]
    listing, claim, job, summary = objects
    # The pods read the same list the batch would: the TOML in the ConfigMap, configs beside it.
    (tmp_path / "fleet").mkdir()
    for key, text in listing["data"].items():
        (tmp_path / "fleet" / key).write_text(text)
    read = plan.load(str(tmp_path / "fleet" / "images.toml"))
    assert [(e.ref, e.profile) for e in read] == [("a/agent:1", None), ("b/agent:2", "knative"), ("c/agent:3", None)]
    assert read[1].agent_config.read_text() == config.read_text() and read[1].vuln_report.read_text() == scan.read_text()
    assert listing["data"]["images.txt"].splitlines() == [e.ref for e in entries]
    spec = job["spec"]
    assert (spec["completionMode"], spec["completions"], spec["parallelism"]) == ("Indexed", 3, 2)
    pod = spec["template"]["spec"]
    dind, pull = pod["initContainers"]
    assert dind["restartPolicy"] == "Always" and dind["image"].endswith("-dind")  # a native sidecar
    assert "--host=tcp://127.0.0.1:2375" in dind["args"]  # the pod's loopback only
    (suite,) = pod["containers"]
    assert {"name": "DOCKER_HOST", "value": "tcp://127.0.0.1:2375"} in suite["env"]
    assert "batch /fleet/images.toml --index \"$JOB_COMPLETION_INDEX\" --out /bundles/fleet" in suite["command"][2]
    assert "--timeout 600" in suite["command"][2]
    assert pod["activeDeadlineSeconds"] == 600 + kubernetes.PULL_S
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["bundles"]["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    wait = summary["spec"]["template"]["spec"]["containers"][0]["command"][2]
    assert "-ge 3 ]" in wait and "t0k" in wait and "summarize /bundles/fleet --expect /fleet/images.toml" in wait


def test_the_pull_step_names_the_folder_as_the_batch_does(tmp_path):
    """The pull container (a shell, no Python) records a failed pull under the image's folder."""
    refs = ["registry.example.com:5000/a/b:1.2", "x/y@sha256:" + "f" * 64, "UPPER/Case_x:tag-1"]
    for ref in refs:
        named = subprocess.run(["sh", "-c", "printf '%s' \"$1\" | tr -c 'A-Za-z0-9._-' '_'", "sh", ref],
                               capture_output=True, text=True, timeout=10, check=True).stdout
        assert named == plan.folder_name(ref)
    pod = next(o for o in yaml.safe_load_all(kubernetes.emit([Entry(r) for r in refs])) if o["kind"] == "Job")
    assert "tr -c 'A-Za-z0-9._-' '_'" in pod["spec"]["template"]["spec"]["initContainers"][1]["command"][2]


def test_emit_refuses_a_name_kubernetes_would_refuse(capsys):
    with pytest.raises(Exception, match="expected a Kubernetes name"):
        kubernetes.manifests([Entry("a:1")], name="Fleet_1")


def test_batch_emit_prints_the_objects_and_runs_nothing(tmp_path, capsys, monkeypatch):
    listing = tmp_path / "images.txt"
    listing.write_text("a:1\nb:2\n")
    assert command.batch_main([str(listing), "--emit", "kubernetes", "--jobs", "1", "--name", "x"], []) == 0
    objects = list(yaml.safe_load_all(capsys.readouterr().out))
    assert objects[2]["spec"]["parallelism"] == 1 and objects[2]["metadata"]["name"] == "x"
    assert not (tmp_path / "conformance-bundles").exists()


@pytest.mark.parametrize("value", [
    {"a": "multi\nline\n", "b": "no trailing\nnewline", "c": "  leading", "d": "trailing \nspace", "e": "two\n\n"},
    {"yes": "no", "n": ["on", "off", "null", "1", "1.5", "", "-", "- x", "a: b", "#c", "'q'", '"d"', "ü", "\t"]},
    {"k": [[1, [2]], {}, [], {"x": {"y": [True, None, 0, -1.25]}}]},
])
def test_the_yaml_writer_round_trips(value):
    assert yaml.safe_load(yamlish.dump(value)) == value
