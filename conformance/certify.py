"""The certification bundle (`--certify DIR`): what a reviewer needs to accept a verdict.

    report.json, report.md    the report (as --report-json / --report-md)
    junit.xml                 one test case per check, with its requirement ID and level
    certification.json        suite version, image ID and repo digests, agent config, options
    repro.sh                  every failing generated request as a runnable curl
    vulnerability-report.json the scanner report NO-CRITICAL-VULNS was decided from, if any
    logs/<name>.log           each candidate's output, saved just before it was removed
    SHA256SUMS                `sha256sum -c SHA256SUMS` in DIR verifies all of the above

Reproducible: the same image and config give the same bytes except timestamps and measured
figures (durations, counts that depend on timing). Everything is ordered; log files are named by
role and check, never by container name, run ID or PID; in logs, the ephemeral source ports Docker's
proxy uses and the container's own ID and name are replaced by placeholders (the only content
rewritten). Under pytest-xdist the workers write the logs, the controller everything else.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path
from typing import Any

from . import junit
from . import report as report_mod
from .image import ImageInfo
from .results import CheckResult

LOGS = "logs"
SUMS = "SHA256SUMS"
INFO = "certification.json"
VULN_REPORT = "vulnerability-report.json"
FILES = ("report.json", "report.md", "junit.xml", INFO, "repro.sh", VULN_REPORT, SUMS)
LOG_MAX_BYTES = 2 << 20  # a fuzzed candidate logs every request: keep the tail
# Linux's ephemeral port range starts at 32768: a peer port there is assigned per connection.
_PEER = re.compile(r"(\d{1,3}(?:\.\d{1,3}){3}|\[[0-9A-Fa-f:.]+\]):(\d{5})\b")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class BundleError(ValueError):
    """The bundle directory cannot be used; the message names it."""


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


# -- candidates' logs ---------------------------------------------------------------------------


def log_name(role: str, check: str, worker: str | None) -> str:
    """`shared` for a session candidate (`shared.gw1` under xdist: each worker has its own), else
    `<check>--<role>`: a check runs on one worker, so its name is the same whatever the split."""
    safe = lambda text: _UNSAFE.sub("_", text).strip("_")  # noqa: E731
    base = f"{safe(check)}--{safe(role)}" if check else (f"{safe(role)}.{worker}" if worker else safe(role))
    return base or "candidate"


def normalise_log(text: str, container_id: str, container_name: str) -> str:
    """Replace what differs between two runs and is not a measurement: the container's ID and
    name (they hold the run ID and a PID) and ephemeral peer ports in access logs."""
    for value, placeholder in ((container_id, "<container-id>"), (container_id[:12], "<container-id>"),
                               (container_name, "<container-name>")):
        if value:
            text = text.replace(value, placeholder)
    return _PEER.sub(lambda m: f"{m.group(1)}:<port>" if int(m.group(2)) >= 32768 else m.group(0), text)


def tail_bytes(chunks, limit: int) -> tuple[bytes, int]:
    """The last `limit` bytes of a stream of chunks, and how many came before them."""
    kept = bytearray()
    omitted = 0
    for chunk in chunks:
        kept += chunk
        if len(kept) > 2 * limit:  # trimmed now and then, not at every chunk
            omitted += len(kept) - limit
            del kept[:-limit]
    if len(kept) > limit:
        omitted += len(kept) - limit
        del kept[:-limit]
    return bytes(kept), omitted


class LogKeeper:
    """A `candidate.BEFORE_REMOVE` hook writing each candidate's logs into `<bundle>/logs/`."""

    def __init__(self, directory: Path, worker: str | None):
        self.logs = Path(directory) / LOGS
        self.worker = worker
        self.kept: set[str] = set()  # container IDs: remove() may run twice
        self.names: set[str] = set()

    def __call__(self, candidate) -> None:
        container = candidate.container
        if container is None or container.id in self.kept:
            return
        self.kept.add(container.id)
        name = log_name(candidate.profile.role, candidate.check, self.worker)
        unique, n = name, 1
        while unique in self.names:  # the same check starting two candidates of one role
            n += 1
            unique = f"{name}-{n}"
        self.names.add(unique)
        try:
            container.reload()
            state = container.attrs.get("State") or {}
            # Streamed and cut as it comes: a flooded log is never held whole.
            raw, omitted = tail_bytes(container.logs(stdout=True, stderr=True, stream=True, follow=False),
                                      LOG_MAX_BYTES)
        except Exception as exc:  # noqa: BLE001 - a log we cannot read is said so, not fatal
            state, raw, omitted = {}, f"(logs unavailable: {type(exc).__name__}: {exc})\n".encode(), 0
        text = raw.decode("utf-8", "replace")
        self.logs.mkdir(parents=True, exist_ok=True)
        (self.logs / f"{unique}.log").write_text(
            "\n".join(self._header(candidate, state, omitted)) + "\n"
            + normalise_log(text, container.id, candidate.name), encoding="utf-8")

    @staticmethod
    def _header(candidate, state: dict, omitted: int) -> list[str]:
        profile = candidate.profile
        constraints = [("read-only root" if profile.read_only_root else "writable root"),
                       ("reserved variables injected" if profile.reserved_env else "no reserved variables"),
                       ("volumes masked" if profile.mask_volumes else "volumes not masked")]
        status = state.get("Status", "unknown")
        if status in ("exited", "dead"):
            status += f" (exit code {state.get('ExitCode')}{', OOM-killed' if state.get('OOMKilled') else ''})"
        lines = [f"# candidate: role {profile.role}" + (f", started by {candidate.check}" if candidate.check else ""),
                 f"# image: {candidate.image.id}",
                 f"# profile: {', '.join(constraints)}",
                 f"# state when removed: {status}"]
        if omitted:
            lines.append(f"# (the first {omitted} bytes are omitted: the tail is kept)")
        return lines + ["# --- container output (stdout and stderr) ---"]


# -- writing ------------------------------------------------------------------------------------


def certification_info(report: dict[str, Any], image: ImageInfo | None, agent_config: dict | None,
                       options: dict[str, Any], timestamp: str) -> dict[str, Any]:
    return {
        "created": timestamp,
        "verdict": report["verdict"],
        "suite": report["suite"],
        "image": {
            "ref": report["image"]["ref"],
            "id": image.id if image else "",
            "repo_digests": sorted(image.repo_digests) if image else [],
            "repo_tags": sorted(image.repo_tags) if image else [],
            "platform": image.platform if image else "",
        },
        "agent_config": agent_config,
        "options": options,
    }


def write(directory: Path, *, report: dict[str, Any], checks: list[CheckResult], image: ImageInfo | None,
          agent_config: dict | None, options: dict[str, Any], timestamp: str,
          vuln_report: bytes | None = None) -> None:
    """Everything but the logs (the candidates wrote those), then SHA256SUMS over all of it."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    report_mod.write_json(directory / "report.json", report)
    report_mod.write_markdown(directory / "report.md", report)
    report_mod.write_reproductions(directory / "repro.sh", report)
    (directory / "junit.xml").write_text(junit.render(report, checks, timestamp), encoding="utf-8")
    info = certification_info(report, image, agent_config, options, timestamp)
    (directory / INFO).write_text(json.dumps(info, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if vuln_report is not None:  # the user's report, as read before the directory was prepared
        (directory / VULN_REPORT).write_bytes(vuln_report)
    (directory / SUMS).write_text(sha256sums(directory), encoding="utf-8")


def sha256sums(directory: Path) -> str:
    """`sha256sum` format over every file of the bundle but SHA256SUMS, by path."""
    directory = Path(directory)
    files = {p.relative_to(directory).as_posix(): p for p in directory.rglob("*") if p.is_file()}
    lines = [f"{hashlib.sha256(files[name].read_bytes()).hexdigest()}  {name}" for name in sorted(files) if name != SUMS]
    return "\n".join(lines) + "\n"


def verify(directory: str | Path) -> list[str]:
    """What does not match SHA256SUMS (missing, changed or unlisted files); [] when all do."""
    directory = Path(directory)
    listed = dict(reversed(line.split("  ", 1)) for line in (directory / SUMS).read_text().splitlines() if line)
    actual = dict(reversed(line.split("  ", 1)) for line in sha256sums(directory).splitlines() if line)
    problems = [f"missing: {p}" for p in sorted(set(listed) - set(actual))]
    problems += [f"not listed: {p}" for p in sorted(set(actual) - set(listed))]
    problems += [f"changed: {p}" for p in sorted(set(listed) & set(actual)) if listed[p] != actual[p]]
    return problems
