"""The certification bundle (`--certify DIR`): what a reviewer needs to accept a verdict.

    report.json, report.md    the report (as --report-json / --report-md)
    report.html               the report with plots of what the run measured (as --report-html)
    junit.xml                 one test case per check, with its requirement ID and level
    certification.json        suite version, image ID and repo digests, agent config, options
    repro.sh                  every failing generated request as a runnable curl
    vulnerability-report.json the scanner report NO-CRITICAL-VULNS was decided from, if any
    profile.toml              the contract profile the run checked against, as read
    agent-config.toml         the agent config file, when one was given
    logs/<name>.log           each candidate's output, saved just before it was removed
    attestation.intoto.jsonl  the signed (or unsigned) in-toto statement over all of the above
    SHA256SUMS                `sha256sum -c SHA256SUMS` in DIR verifies all of the above

Reproducible: the same image and config give the same bytes except timestamps and measured
figures (durations, counts that depend on timing). Everything is ordered; the logs are written by
`candidate.logs.LogKeeper` (named by role and check, normalised). Under pytest-xdist the workers
write the logs, the controller everything else.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dataclasses import dataclass

from ..errors import BundleError
from ..image.config import ImageInfo
from . import attestation, document, html, junit, markdown, repro
from .results import CheckResult

if TYPE_CHECKING:  # securesystemslib: imported only when a key signs (`attestation.envelope`)
    from securesystemslib.signer import CryptoSigner

LOGS = "logs"
SUMS = "SHA256SUMS"
INFO = "certification.json"
VULN_REPORT = "vulnerability-report.json"
PROFILE = "profile.toml"
AGENT_CONFIG = "agent-config.toml"
FILES = ("report.json", "report.md", "report.html", "junit.xml", INFO, "repro.sh", VULN_REPORT, PROFILE,
         AGENT_CONFIG, attestation.FILE, SUMS)


@dataclass(frozen=True)
class Certification:
    """What the attestation needs beyond the report: the contract and agent config as read, and
    the signing key (None: written unsigned)."""

    profile_text: str
    agent_config_file: bytes | None = None  # the --agent-config file's bytes; None when none was given
    signer: CryptoSigner | None = None


# -- the directory ----------------------------------------------------------------------------


def prepare(directory: str | Path) -> Path:
    """Make `directory` ready for a new bundle: created, or emptied of an earlier bundle. Anything
    else in it is refused rather than deleted or mixed into the new bundle's SHA256SUMS."""
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise BundleError(f"--certify {directory}: exists and is not a directory")
    if directory.is_dir():
        foreign = sorted(p.name for p in directory.iterdir() if p.name not in FILES and p.name != LOGS)
        if foreign:
            raise BundleError(f"--certify {directory}: not empty and not an earlier bundle (holds {foreign[0]!r}); "
                              "give a new or empty directory")
        for name in FILES:
            (directory / name).unlink(missing_ok=True)
        shutil.rmtree(directory / LOGS, ignore_errors=True)
    try:
        (directory / LOGS).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BundleError(f"--certify {directory}: cannot create it: {exc.strerror or exc}") from None
    return directory


# -- writing ------------------------------------------------------------------------------------


def certification_info(report: dict[str, Any], image: ImageInfo | None, agent_config: dict | None,
                       options: dict[str, Any], timestamp: str) -> dict[str, Any]:
    return {
        "created": timestamp,
        "verdict": report["verdict"],
        "suite": report["suite"],
        "profile": report.get("profile", {}),
        "image": {
            "ref": report["image"]["ref"],
            "id": image.id if image else "",
            "repo_digests": sorted(image.repo_digests) if image else [],
            "repo_tags": sorted(image.repo_tags) if image else [],
            "platform": image.platform if image else "",
        },
        "agent_config": agent_config,
        "options": options,
        "identity": report.get("identity", {}),
        "completeness": report.get("completeness", {}),
        "attestation": report.get("attestation", {}),
    }


def write(directory: Path, *, report: dict[str, Any], checks: list[CheckResult], image: ImageInfo | None,
          agent_config: dict | None, options: dict[str, Any], timestamp: str,
          vuln_report: bytes | None = None, certification: Certification | None = None) -> None:
    """Everything but the logs (the candidates wrote those), the attestation over all of it, then
    SHA256SUMS."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    document.write_json(directory / "report.json", report)
    markdown.write_markdown(directory / "report.md", report)
    html.write_html(directory / "report.html", report)
    repro.write_reproductions(directory / "repro.sh", report)
    (directory / "junit.xml").write_text(junit.render(report, checks, timestamp), encoding="utf-8")
    info = certification_info(report, image, agent_config, options, timestamp)
    (directory / INFO).write_text(json.dumps(info, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if vuln_report is not None:  # the user's report, as read before the directory was prepared
        (directory / VULN_REPORT).write_bytes(vuln_report)
    if certification is not None:
        _attest(directory, report, info, certification, timestamp)
    (directory / SUMS).write_text(sha256sums(directory), encoding="utf-8")


def _attest(directory: Path, report: dict[str, Any], info: dict[str, Any], certification: Certification,
            timestamp: str) -> None:
    """The contract and config files beside the report, then the statement over every file."""
    (directory / PROFILE).write_text(certification.profile_text, encoding="utf-8")
    if certification.agent_config_file is not None:
        (directory / AGENT_CONFIG).write_bytes(certification.agent_config_file)
    files = digests(directory, exclude=(SUMS, attestation.FILE))
    statement = attestation.statement(report, info["image"], configuration(report, files), timestamp, files)
    envelope = attestation.envelope(statement, certification.signer)
    (directory / attestation.FILE).write_text(attestation.line(envelope), encoding="utf-8")


def configuration(report: dict[str, Any], files: dict[str, str]) -> list[dict[str, Any]]:
    """The test-result predicate's `configuration`: the suite, the profile, the agent config and the
    scanner report, each with its digest."""
    ident = report.get("identity") or {}
    suite = ident.get("suite") or {}
    digest = {"sha256": suite.get("sha256", "")}
    if suite.get("commit") and suite.get("modified") is False:
        digest["gitCommit"] = suite["commit"]  # only a commit the files are: a modified clone is not it
    items = [{"name": suite.get("name", "agent-conformance"), "digest": digest,
              "annotations": {"version": suite.get("version", ""), "files": str(suite.get("files", ""))}}]
    contract = report.get("profile") or {}
    items.append({"name": PROFILE, "digest": {"sha256": files[PROFILE]},
                  "annotations": {"profile": contract.get("name", ""), "version": contract.get("version", "")}})
    config = ident.get("agent_config") or {}
    if AGENT_CONFIG in files:
        items.append({"name": AGENT_CONFIG, "digest": {"sha256": files[AGENT_CONFIG]},
                      "annotations": {"source": config.get("source", "")}})
    else:  # endpoints from the command line, or the default: the config as the run used it
        items.append({"name": f"agent config ({config.get('source', 'default')})",
                      "digest": {"sha256": config.get("sha256", "")}})
    if VULN_REPORT in files:
        items.append({"name": VULN_REPORT, "digest": {"sha256": files[VULN_REPORT]}})
    return items


def digests(directory: Path, exclude: tuple[str, ...] = (SUMS,)) -> dict[str, str]:
    """Bundle path → SHA-256 of every file but `exclude`."""
    directory = Path(directory)
    files = {p.relative_to(directory).as_posix(): p for p in directory.rglob("*") if p.is_file()}
    return {name: hashlib.sha256(files[name].read_bytes()).hexdigest() for name in sorted(files) if name not in exclude}


def sha256sums(directory: Path) -> str:
    """`sha256sum` format over every file of the bundle but SHA256SUMS, by path."""
    return "".join(f"{digest}  {name}\n" for name, digest in digests(directory).items())


def verify(directory: str | Path) -> list[str]:
    """What does not match SHA256SUMS (missing, changed or unlisted files); [] when all do."""
    directory = Path(directory)
    listed = dict(reversed(line.split("  ", 1)) for line in (directory / SUMS).read_text().splitlines() if line)
    actual = dict(reversed(line.split("  ", 1)) for line in sha256sums(directory).splitlines() if line)
    problems = [f"missing: {p}" for p in sorted(set(listed) - set(actual))]
    problems += [f"not listed: {p}" for p in sorted(set(actual) - set(listed))]
    problems += [f"changed: {p}" for p in sorted(set(listed) & set(actual)) if listed[p] != actual[p]]
    return problems
