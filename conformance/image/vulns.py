"""NO-CRITICAL-VULNS: a Trivy or Grype JSON report turned into a decision with evidence.

Pure except for `scanner_command`/`run_scanner`, which run a scanner found on PATH. The platform
scans the image itself and refuses any CRITICAL vulnerability; the suite cannot reach a scanner
database, so it reads a report the user made (or a local scanner makes) and is strict about it: a
report it cannot read, of another format, or of another image is an error, never a silent pass.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import VulnReportError

TRIVY_JSON = "trivy image --format json --output trivy.json {ref}"
GRYPE_JSON = "grype {ref} -o json --file grype.json"
_PRODUCE_JSON = "produce JSON with `trivy image --format json …` or `grype … -o json`"
_MIN_ID_HEX = 12  # the short image ID Docker prints; a shorter prefix could name another image


@dataclass(frozen=True)
class Finding:
    vulnerability_id: str
    package: str
    installed_version: str
    fixed_version: str  # "" when no fix is known
    severity: str  # upper-case: CRITICAL, HIGH, MEDIUM, LOW, NEGLIGIBLE, UNKNOWN
    target: str  # where the package was found, for context


@dataclass(frozen=True)
class ScanReport:
    scanner: str  # "trivy" | "grype"
    scanner_version: str
    image_ids: tuple[str, ...]  # image IDs / manifest digests the report names
    repo_digests: tuple[str, ...]
    findings: tuple[Finding, ...]
    artifact: str = ""  # the reference the scanner was given, e.g. "agent:1.0"

    @property
    def critical(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "CRITICAL")


# -- reading ---------------------------------------------------------------------------------


def read_report(path: Path) -> tuple[bytes, ScanReport]:
    """The report's bytes as given (the certification bundle keeps them) and what they say."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise VulnReportError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise VulnReportError(f"{path}: not a text file (not UTF-8); {_PRODUCE_JSON}") from None
    if not text.strip():
        raise VulnReportError(f"{path}: empty file; {_PRODUCE_JSON}")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise VulnReportError(f"{path}: {_not_json(text, exc)}") from None
    return raw, parse_report(data, str(path))


def _not_json(text: str, exc: json.JSONDecodeError) -> str:
    if "Total:" in text and ("CRITICAL:" in text or "Vulnerability" in text):
        return "looks like Trivy's table output, not JSON; add `--format json --output FILE`"
    lines = text.strip().splitlines()
    if any(line.split()[:2] == ["NAME", "INSTALLED"] for line in lines[:20]):
        return "looks like Grype's table output, not JSON; add `-o json --file FILE`"
    if text.lstrip().startswith("<"):
        return f"looks like XML/HTML (a template output?), not JSON; {_PRODUCE_JSON}"
    if lines[0][:1] not in "{[":
        return f"not JSON (starts {lines[0][:60]!r}); {_PRODUCE_JSON}"
    # An error at the very end means the document stopped early: a scan cut short or a partial copy.
    # (A string left open also runs to the end: a newline inside it would fail sooner.)
    if exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string"):
        return f"truncated JSON (ends inside a value at line {exc.lineno}); re-run the scanner"
    return f"not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"


def parse_report(data: Any, source: str = "<report>") -> ScanReport:
    def bad(what: str) -> VulnReportError:
        return VulnReportError(f"{source}: {what}")

    if isinstance(data, list):
        if data and all(isinstance(r, dict) and "Target" in r for r in data):
            raise bad("Trivy JSON from before v0.20 (a bare list, no SchemaVersion, no image ID); "
                      "re-run with a current trivy")
        raise bad(f"unrecognised JSON (a list); {_PRODUCE_JSON}")
    if not isinstance(data, dict):
        raise bad(f"unrecognised JSON ({_kind(data)}); {_PRODUCE_JSON}")
    other = _other_format(data)
    if other:
        raise bad(f"{other}, not a scanner's JSON report; {_PRODUCE_JSON}")
    if "SchemaVersion" in data or "Results" in data or "ArtifactType" in data:
        return _parse_trivy(data, bad)
    if "matches" in data or _get(data, "descriptor", "name") == "grype":
        return _parse_grype(data, bad)
    keys = ", ".join(sorted(data)[:6]) or "none"
    raise bad(f"unrecognised JSON (top-level keys: {keys}); {_PRODUCE_JSON}")


def _other_format(data: dict) -> str:
    """Name the format of a JSON document that is a scanner output, but not the JSON report."""
    if "runs" in data and ("sarif" in str(data.get("$schema", "")).lower() or data.get("version") == "2.1.0"):
        return "SARIF (`--format sarif` / `-o sarif`)"
    if data.get("bomFormat") == "CycloneDX":
        return "CycloneDX (`--format cyclonedx` / `-o cyclonedx-json`)"
    if "spdxVersion" in data:
        return "SPDX (`--format spdx-json` / `-o spdx-json`)"
    if _get(data, "descriptor", "name") == "syft":
        return "a Syft SBOM (packages only, no vulnerabilities)"
    return ""


def _kind(value: Any) -> str:
    """JSON's name for a parsed value's type, for messages."""
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


def _get(d: Any, *keys: str) -> Any:
    for k in keys:
        d = d.get(k) if isinstance(d, dict) else None
    return d


def _list(value: Any, where: str, bad) -> list:
    """Scanners write an empty list as null (Go nil slices): both mean none."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise bad(f"{where} is {_kind(value)}, expected a list")
    return value


def _str(entry: dict, key: str, where: str, bad, required: bool = True) -> str:
    value = entry.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise bad(f"{where}: {key!r} missing or not a string")
    return value


def _digests(value: Any, where: str, bad) -> tuple[str, ...]:
    return tuple(d for d in _list(value, where, bad) if isinstance(d, str) and d)


# Trivy artifacts that are not an image: a report of the source tree says nothing about the image.
_TRIVY_NOT_IMAGE = {"filesystem": "trivy fs/rootfs", "repository": "trivy repo", "vm": "trivy vm"}


def _parse_trivy(data: dict, bad) -> ScanReport:
    if data.get("SchemaVersion") != 2:
        raise bad(f"Trivy SchemaVersion {data.get('SchemaVersion')!r}, this suite reads 2")
    kind = data.get("ArtifactType", "")
    if kind in _TRIVY_NOT_IMAGE:
        raise bad(f"Trivy report of a {kind} ({_TRIVY_NOT_IMAGE[kind]}), not of an image; "
                  f"run {TRIVY_JSON.format(ref='IMAGE')}")
    meta = data.get("Metadata") or {}
    if not isinstance(meta, dict):
        raise bad("Metadata is not an object")
    name = data.get("ArtifactName") or ""
    findings = []
    for i, result in enumerate(_list(data.get("Results"), "Results", bad)):
        where = f"Results[{i}]"
        if not isinstance(result, dict):
            raise bad(f"{where} is not an object")
        target = _str(result, "Target", where, bad, required=False)
        # An OS target reads "<artifact> (debian 12.7)": keep the OS, the artifact is known.
        if name and target.startswith(name + " (") and target.endswith(")"):
            target = target[len(name) + 2 : -1]
        target = f"{target} {result.get('Class') or ''}".strip()
        # Only Vulnerabilities count: Secrets/Misconfigurations carry severities too, but are not CVEs.
        for j, v in enumerate(_list(result.get("Vulnerabilities"), f"{where}.Vulnerabilities", bad)):
            w = f"{where}.Vulnerabilities[{j}]"
            if not isinstance(v, dict):
                raise bad(f"{w} is not an object")
            findings.append(Finding(
                vulnerability_id=_str(v, "VulnerabilityID", w, bad),
                package=_str(v, "PkgName", w, bad),
                installed_version=_str(v, "InstalledVersion", w, bad, required=False),
                fixed_version=_str(v, "FixedVersion", w, bad, required=False),
                severity=_str(v, "Severity", w, bad).upper(),
                target=target,
            ))
    ids = [meta.get("ImageID")] if isinstance(meta.get("ImageID"), str) and meta.get("ImageID") else []
    return ScanReport(
        scanner="trivy",
        scanner_version=str(_get(data, "Trivy", "Version") or ""),
        image_ids=tuple(ids),
        repo_digests=_digests(meta.get("RepoDigests"), "Metadata.RepoDigests", bad),
        findings=tuple(findings),
        artifact=name,
    )


def _parse_grype(data: dict, bad) -> ScanReport:
    if "matches" not in data:
        raise bad("Grype report without 'matches'")
    source = data.get("source") or {}
    if source.get("type") not in (None, "image"):
        raise bad(f"Grype report of a {source.get('type')}, not of an image; "
                  f"run {GRYPE_JSON.format(ref='IMAGE')}")
    findings = []
    for i, m in enumerate(_list(data.get("matches"), "matches", bad)):
        w = f"matches[{i}]"
        vuln, art = (m.get("vulnerability"), m.get("artifact")) if isinstance(m, dict) else (None, None)
        if not isinstance(vuln, dict) or not isinstance(art, dict):
            raise bad(f"{w}: 'vulnerability' or 'artifact' missing")
        fix = vuln.get("fix") or {}
        # fix.versions lists every fixed version (one per affected range); state is fixed/not-fixed/wont-fix.
        versions = _list(fix.get("versions"), f"{w}.vulnerability.fix.versions", bad)
        locations = _list(art.get("locations"), f"{w}.artifact.locations", bad)
        path = locations[0].get("path", "") if locations and isinstance(locations[0], dict) else ""
        findings.append(Finding(
            vulnerability_id=_str(vuln, "id", f"{w}.vulnerability", bad),
            package=_str(art, "name", f"{w}.artifact", bad),
            installed_version=_str(art, "version", f"{w}.artifact", bad, required=False),
            fixed_version=", ".join(str(v) for v in versions),
            severity=_str(vuln, "severity", f"{w}.vulnerability", bad).upper(),  # "Critical" → CRITICAL
            target=f"{art.get('type') or ''} {path}".strip(),
        ))
    target = source.get("target")
    target = target if isinstance(target, dict) else {}
    ids = [target[k] for k in ("imageID", "manifestDigest") if isinstance(target.get(k), str) and target[k]]
    return ScanReport(
        scanner="grype",
        scanner_version=str(_get(data, "descriptor", "version") or ""),
        image_ids=tuple(ids),
        repo_digests=_digests(target.get("repoDigests"), "source.target.repoDigests", bad),
        findings=tuple(findings),
        artifact=str(target.get("userInput") or ""),
    )


# -- deciding --------------------------------------------------------------------------------


def _hex(ref: str) -> str:
    """'repo@sha256:ABC…', 'sha256:abc…' or 'abc…' → 'abc…'."""
    digest = ref.rsplit("@", 1)[-1].strip().lower()
    return digest.split(":", 1)[1] if ":" in digest else digest


def _short(ref: str) -> str:
    return f"sha256:{_hex(ref)[:_MIN_ID_HEX]}…"


def check_matches_image(report: ScanReport, image_id: str, repo_digests: list[str]) -> str | None:
    """None when the report names the candidate, or names no image; else why it is refused.

    Any digest on one side matching any on the other is enough: Docker's image ID is the config
    digest (or, with the containerd store, the manifest digest), a repo digest names the manifest.
    """
    named = [_hex(d) for d in (*report.image_ids, *report.repo_digests) if _hex(d)]
    ours = [_hex(d) for d in (image_id, *repo_digests) if d and _hex(d)]
    if not named or not ours:
        return None
    for a in named:
        for b in ours:
            shorter, longer = sorted((a, b), key=len)
            if len(shorter) >= _MIN_ID_HEX and longer.startswith(shorter):
                return None
    theirs = _short((report.image_ids or report.repo_digests)[0])
    what = f" ({report.artifact})" if report.artifact else ""
    return f"report is for {theirs}{what}, candidate is {_short(image_id or repo_digests[0])}"


def describe_finding(f: Finding) -> str:
    fixed = f"fixed in {f.fixed_version}" if f.fixed_version else "no fix yet"
    where = f" [{f.target}]" if f.target else ""
    package = f"{f.package} {f.installed_version}".strip()
    return f"{f.vulnerability_id} in {package} ({fixed}){where}"


# -- producing -------------------------------------------------------------------------------


def scanner_command(image_ref: str, out: Path) -> list[str] | None:
    """The argv writing a JSON report of the LOCAL image `image_ref` to `out`, or None.

    Both scanners would otherwise fall back to the registry: a pull of a local-only tag fails
    confusingly, and a pull of a tag that exists remotely scans another image.
    """
    if trivy := shutil.which("trivy"):
        # --scanners vuln: secret scanning is slow and is not this requirement.
        return [trivy, "image", "--image-src", "docker", "--scanners", "vuln", "--format", "json",
                "--output", str(out), image_ref]
    if grype := shutil.which("grype"):
        return [grype, f"docker:{image_ref}", "-o", "json", "--file", str(out)]
    return None


def run_scanner(image_ref: str, out: Path, timeout_s: float) -> ScanReport:
    argv = scanner_command(image_ref, out)
    if argv is None:
        raise VulnReportError(f"no scanner on PATH; {how_to_produce(image_ref)}")
    name = Path(argv[0]).name
    Path(out).unlink(missing_ok=True)  # a report left by an earlier run must not pass for this one
    # stderr to a file, not a pipe: a killed scanner's children cannot then keep us waiting on it.
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                                start_new_session=True)  # its own process group, killed as one
        code = None
        try:
            code = proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            pass
        finally:
            if code is None:  # timed out, or we were interrupted: leave no scanner behind
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        if code is None:
            raise VulnReportError(f"{name} did not finish within {timeout_s:g} s (killed): "
                                  f"{shlex.join(argv)}")
        err.seek(0)
        tail = [line for line in err.read().decode("utf-8", "replace").splitlines() if line.strip()]
    if code != 0:
        last = tail[-1].strip() if tail else "no output"
        raise VulnReportError(f"{name} exited with {code}: {last[:300]}")
    return read_report(out)[1]


def how_to_produce(image_ref: str, option: str = "--vuln-report") -> str:
    ref = shlex.quote(image_ref)
    return (f"no vulnerability report: run `{TRIVY_JSON.format(ref=ref)}` or `{GRYPE_JSON.format(ref=ref)}` "
            f"and pass it with `{option} FILE`, or put trivy or grype on PATH")
