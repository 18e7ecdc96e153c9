"""A certification bundle made without Docker: the report of a run whose checks are given, written
by the same code a real run uses (document, certification, bundle), for the verifier's unit tests.
The integration tests (tests/integration/test_certification.py) do the same with real runs."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from conformance import certification
from conformance.contract import profile
from conformance.contract.agent_config import AgentConfig
from conformance.image.config import from_attrs
from conformance.report import bundle, document
from conformance.report.results import CheckResult, Status, aggregate

IMAGE_ID = "sha256:" + "a" * 64
REPO_DIGEST = "registry.example/agent@sha256:" + "b" * 64
IMAGE = from_attrs("agent:v1", {"Id": IMAGE_ID, "Os": "linux", "Architecture": "amd64", "Config": {"Cmd": ["serve"]},
                                "RepoDigests": [REPO_DIGEST], "RepoTags": ["agent:v1"]})


def openssl_key(directory: Path, kind: str = "ed25519") -> tuple[Path, Path]:
    """(private, public) PEM files as openssl writes them."""
    private, public = directory / f"{kind}.pem", directory / f"{kind}.pub"
    args = {"ed25519": ["-algorithm", "ed25519"],
            "p256": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]}[kind]
    subprocess.run(["openssl", "genpkey", *args, "-out", str(private)], check=True, capture_output=True, timeout=30)
    subprocess.run(["openssl", "pkey", "-in", str(private), "-pubout", "-out", str(public)], check=True,
                   capture_output=True, timeout=30)
    return private, public


def statuses(overrides: dict[str, Status] | None = None) -> dict[str, Status]:
    ids = [r.id for r in profile.load(profile.DEFAULT).requirements()]
    return {rid: (overrides or {}).get(rid, Status.PASS) for rid in ids}


def make_bundle(directory: Path, *, sign_key: Path | None = None, overrides: dict[str, Status] | None = None,
                timestamp: str | None = None, vuln_report: bytes | None = b'{"Results": []}') -> Path:
    chosen = statuses(overrides)
    checks = [CheckResult(f"test_{rid.lower()}", rid, status, (f"{rid} {status}: took 12 ms",), 0.01,
                          f"conformance/suite/test_x.py::test_{rid.lower()}") for rid, status in chosen.items()
              if status != Status.SKIP]
    config, contract = AgentConfig(), profile.load(profile.DEFAULT)
    inputs = certification.prepare(certify=True, sign_key=str(sign_key) if sign_key else None, expected_failures=None,
                                   contract=contract, agent_config=config)
    results = aggregate(checks, set(chosen), requirements=contract.requirements())
    report = document.build(IMAGE.ref, IMAGE, results, 3.2, profile=contract)
    certification.amend(report, inputs)
    bundle.prepare(directory)
    bundle.write(directory, report=report, checks=checks, image=IMAGE, agent_config=config.as_dict(), options={},
                 timestamp=timestamp or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), vuln_report=vuln_report,
                 certification=inputs.bundle_certification())
    return directory


def resum(directory: Path) -> None:
    """What a forger does after editing a file: SHA256SUMS made anew."""
    (directory / bundle.SUMS).write_text(bundle.sha256sums(directory), encoding="utf-8")
