"""`agent-conformance batch FILE --emit kubernetes`: the same batch as Kubernetes objects, for
`kubectl apply -f -`. Standard objects only (batch/v1 Jobs, a ConfigMap, a PersistentVolumeClaim):

- a ConfigMap with the list (`images.toml`, each image's agent config and scanner report beside it) and the bare
  references (`images.txt`, for the pull);
- a ReadWriteMany PersistentVolumeClaim: every pod writes its image's bundle there;
- an Indexed Job, one pod per image (`JOB_COMPLETION_INDEX` picks it), `parallelism` at once.
  Each pod runs `docker:dind` as a native sidecar (an init container that keeps running:
  Kubernetes 1.29 or later; it listens on the pod's loopback only), pulls its image into it, and
  runs `agent-conformance batch --index I` (the suite never pulls). A verdict `fail` (exit 1)
  and an error alike end that image's one try (each try leaves a mark on the volume; a failed pull
  leaves a record saying so);
- a Job that waits until every pod has finished (a mark each leaves on the volume, at most the
  fleet's deadline), then runs `agent-conformance summarize` into the same folder.

Nothing here has run on a cluster in this repository's tests: the objects are checked against
the Kubernetes schemas offline (`tests/unit/test_fleet_recipes.py`, kubernetes-validate)."""

from __future__ import annotations

import json
import math
import re
import uuid
from typing import Any

from .. import __version__
from ..errors import ConfigError
from .plan import Entry
from .yamlish import dump_all

DIND_IMAGE = "docker:27-dind"
CLI_IMAGE = "docker:27-cli"
DEFAULT_SUITE_IMAGE = f"agent-conformance:{__version__}"  # the repository's Dockerfile, pushed where the cluster pulls
DEFAULT_NAME = "agent-conformance-fleet"
DOCKER_HOST = "tcp://127.0.0.1:2375"  # the sidecar, on the pod's loopback only
PULL_S = 900  # the sidecar's start and the image's pull, beside the run's own cap
MAX_CONFIGMAP_BYTES = 1 << 20  # the API server's limit on one object
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,40}[a-z0-9])?$")  # leaves room for "-summary" and "-bundles"


def manifests(entries: list[Entry], *, name: str = DEFAULT_NAME, suite_image: str = DEFAULT_SUITE_IMAGE,
              parallelism: int = 4, timeout_s: float = 900, cpus: float = 1.0, storage: str = "2Gi",
              token: str | None = None) -> list[dict[str, Any]]:
    """The objects, in the order `kubectl apply` should create them."""
    if not _NAME.match(name):
        raise ConfigError(f"--name {name!r}: expected a Kubernetes name of at most 42 lowercase letters, digits "
                          "and '-', starting and ending with a letter or digit")
    token = token or uuid.uuid4().hex[:12]  # this emission's marks: a folder reused later is not miscounted
    labels = {"app.kubernetes.io/name": "agent-conformance", "app.kubernetes.io/instance": name}
    out = f"/bundles/{name}"
    per_pod_s = int(math.ceil(timeout_s)) + PULL_S
    rounds = math.ceil(len(entries) / max(1, parallelism))
    fleet_s = rounds * per_pod_s + 600  # every round of pods at its cap, and the summary
    return [
        _config_map(entries, name, labels),
        {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
         "metadata": {"name": f"{name}-bundles", "labels": labels},
         "spec": {"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": storage}}}},
        _indexed_job(entries, name, labels, suite_image, parallelism, timeout_s, cpus, out, token, per_pod_s, fleet_s),
        _summary_job(entries, name, labels, suite_image, out, token, fleet_s),
    ]


def emit(entries: list[Entry], **options: Any) -> str:
    return dump_all(manifests(entries, **options))


def _config_map(entries: list[Entry], name: str, labels: dict) -> dict:
    data: dict[str, str] = {"images.txt": "".join(f"{e.ref}\n" for e in entries)}
    tables = []
    for i, entry in enumerate(entries):
        table = [f"[[image]]", f"ref = {_toml(entry.ref)}"]
        if entry.agent_config:
            key = f"agent-{i}.toml"
            try:
                data[key] = entry.agent_config.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigError(f"{entry.agent_config}: cannot read agent config: {exc}") from None
            table.append(f"agent_config = {_toml(key)}")
        if entry.vuln_report:  # a scanner's report of this image (a certification without one is incomplete)
            key = f"vulns-{i}.json"
            try:
                data[key] = entry.vuln_report.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigError(f"{entry.vuln_report}: cannot read vulnerability report: {exc}") from None
            table.append(f"vuln_report = {_toml(key)}")
        if entry.profile:
            table.append(f"profile = {_toml(entry.profile)}")
        tables.append("\n".join(table))
    data["images.toml"] = "\n\n".join(tables) + "\n"
    if sum(len(k) + len(v.encode()) for k, v in data.items()) > MAX_CONFIGMAP_BYTES:
        raise ConfigError("the list and its agent configs exceed a ConfigMap's 1 MiB: emit the fleet in parts")
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"{name}-list", "labels": labels},
            "data": data}


def _indexed_job(entries, name, labels, suite_image, parallelism, timeout_s, cpus, out, token, per_pod_s, fleet_s):
    index = '"$JOB_COMPLETION_INDEX"'
    mark = f'mkdir -p "{out}/_batch" && touch "{out}/_batch/{token}.$JOB_COMPLETION_INDEX.done"  # the summary counts these\n'
    # A failed pull leaves a record (the summary lists the image and why) and the pod's mark.
    pull = ('ref=$(sed -n "$((JOB_COMPLETION_INDEX + 1))p" /fleet/images.txt)\n'
            f'timeout {PULL_S} docker pull "$ref" && exit 0\n'
            "folder=$(printf '%s' \"$ref\" | tr -c 'A-Za-z0-9._-' '_')\n"
            f'mkdir -p "{out}/_batch"\n'
            """printf '{"ref": "%s", "folder": "%s", "status": "error", "reason": "the image could not be pulled"}\\n' """
            f'"$ref" "$folder" > "{out}/_batch/$folder.json"\n' + mark + "exit 1\n")
    certify = (f"agent-conformance batch /fleet/images.toml --index {index} --out {out} "
               f"--jobs 1 --timeout {timeout_s:g} --cpus {cpus:g}\n"
               "status=$?\n" + mark + 'exit "$status"\n')
    engine_env = [{"name": "DOCKER_HOST", "value": DOCKER_HOST}]
    return {
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "completionMode": "Indexed",
            "completions": len(entries),
            "parallelism": max(1, min(parallelism, len(entries))),
            # One try per image: a verdict would be the same the second time, and each try leaves
            # exactly one mark for the summary to count.
            "backoffLimitPerIndex": 0,
            "activeDeadlineSeconds": fleet_s,
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "restartPolicy": "Never",
                    "activeDeadlineSeconds": per_pod_s,
                    "initContainers": [
                        {
                            "name": "dind",
                            "image": DIND_IMAGE,
                            "restartPolicy": "Always",  # a native sidecar: up before the others, ended after
                            "args": ["dockerd", f"--host={DOCKER_HOST}", "--host=unix:///var/run/docker.sock"],
                            "env": [{"name": "DOCKER_TLS_CERTDIR", "value": ""}],
                            "securityContext": {"privileged": True},  # Docker-in-Docker needs it
                            "startupProbe": {"exec": {"command": ["docker", "info"]}, "periodSeconds": 2,
                                             "failureThreshold": 90},
                            "resources": {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"memory": "6Gi"}},
                            "volumeMounts": [{"name": "docker", "mountPath": "/var/lib/docker"}],
                        },
                        {
                            "name": "pull",
                            "image": CLI_IMAGE,
                            "command": ["sh", "-c", pull],
                            "env": engine_env,
                            "volumeMounts": [{"name": "list", "mountPath": "/fleet", "readOnly": True},
                                             {"name": "bundles", "mountPath": "/bundles"}],
                        },
                    ],
                    "containers": [{
                        "name": "suite",
                        "image": suite_image,
                        "command": ["sh", "-c", certify],
                        "env": engine_env + [{"name": "CI", "value": "true"}],
                        "resources": {"requests": {"cpu": "500m", "memory": "512Mi"}},
                        "volumeMounts": [{"name": "list", "mountPath": "/fleet", "readOnly": True},
                                         {"name": "bundles", "mountPath": "/bundles"}],
                    }],
                    "volumes": [
                        {"name": "docker", "emptyDir": {}},
                        {"name": "list", "configMap": {"name": f"{name}-list"}},
                        {"name": "bundles", "persistentVolumeClaim": {"claimName": f"{name}-bundles"}},
                    ],
                },
            },
        },
    }


def _summary_job(entries, name, labels, suite_image, out, token, fleet_s):
    wait = (f"deadline=$(( $(date +%s) + {fleet_s - 300} ))\n"
            f'until [ "$(ls {out}/_batch 2>/dev/null | grep -c \'^{token}\\..*\\.done$\')" -ge {len(entries)} ]; do\n'
            '  [ "$(date +%s)" -ge "$deadline" ] && { echo "not every pod finished: summarizing what is there"; break; }\n'
            "  sleep 10\n"
            "done\n"
            f"exec agent-conformance summarize {out} --expect /fleet/images.toml --out {out}\n")
    return {
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": f"{name}-summary", "labels": labels},
        "spec": {
            "backoffLimit": 1,
            "activeDeadlineSeconds": fleet_s,
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{
                        "name": "summarize",
                        "image": suite_image,
                        "command": ["sh", "-c", wait],
                        "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}},
                        "volumeMounts": [{"name": "list", "mountPath": "/fleet", "readOnly": True},
                                         {"name": "bundles", "mountPath": "/bundles"}],
                    }],
                    "volumes": [
                        {"name": "list", "configMap": {"name": f"{name}-list"}},
                        {"name": "bundles", "persistentVolumeClaim": {"claimName": f"{name}-bundles"}},
                    ],
                },
            },
        },
    }


def _toml(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(text, ensure_ascii=False)
