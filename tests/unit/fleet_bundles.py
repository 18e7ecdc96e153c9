"""Bundles for the fleet's unit tests, written by the code a run uses (document, certification,
bundle), for any image, statuses and profile: what `batch` and `summarize` read."""

from __future__ import annotations

import time
from pathlib import Path

from conformance import certification
from conformance.contract import profile
from conformance.contract.agent_config import AgentConfig
from conformance.image.config import from_attrs
from conformance.report import bundle, document
from conformance.report.results import CheckResult, Status, aggregate

IMAGE_ID = "sha256:" + "1" * 64


def make_bundle(directory: Path, ref: str, statuses: dict[str, str] | None = None, *, image_id: str = IMAGE_ID,
                profile_name: str = profile.DEFAULT, interrupted: bool = False, run_error: str | None = None) -> Path:
    """`statuses`: the IDs that do not pass. `interrupted`: those given as "error" were never reached
    (the run was stopped). `run_error`: nothing was checked (e.g. the image is not in the engine)."""
    statuses = statuses or {}
    contract = profile.load(profile_name)
    ids = [r.id for r in contract.requirements()]
    skipped = {rid for rid, status in statuses.items() if interrupted and status == "error"}
    checks = [] if run_error else [
        CheckResult(f"test_{rid.lower()}", rid, Status(statuses.get(rid, "pass")), (f"{rid}: what was seen",), 0.01,
                    f"conformance/suite/test_x.py::test_{rid.lower()}") for rid in ids if rid not in skipped]
    image = None if not image_id else from_attrs(ref, {
        "Id": image_id, "Os": "linux", "Architecture": "amd64", "Config": {"Cmd": ["serve"]}, "RepoDigests": [],
        "RepoTags": [ref]})
    config = AgentConfig()
    inputs = certification.prepare(certify=True, sign_key=None, expected_failures=None, contract=contract,
                                   agent_config=config)
    results = aggregate(checks, set(ids), run_error=run_error, interrupted=interrupted,
                        requirements=contract.requirements())
    report = document.build(ref, image, results, 3.2, profile=contract)
    certification.amend(report, inputs)
    bundle.prepare(directory)
    bundle.write(directory, report=report, checks=checks, image=image, agent_config=config.as_dict(), options={},
                 timestamp=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), vuln_report=b'{"Results": []}',
                 certification=inputs.bundle_certification())
    return directory
