"""`agent-conformance verify DIR`: what a platform checks before it accepts a vendor's bundle.

Every expected file is there; SHA256SUMS holds; the attestation's signature verifies with the
vendor's public key; every file is the one the signed statement names; the statement's subject is
the report's image (and `--image`'s); every requirement of the recorded profile is in report.json
and in junit.xml with the same status, and in the statement's test lists; the verdict recomputed
from the statuses is the one recorded; the suite version and the bundle's age are accepted.

One finding per check, each one line: `ok`, `FAIL` or `skip` (a check that needs an input not
given, e.g. no `--key`). Reads only the bundle's documents: no engine, no network.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from securesystemslib.signer import SSlibKey

from ..contract import profile as profiles
from ..errors import ConfigError
from . import attestation, bundle, completeness
from .keys import with_keyid
from .results import SEVERITY, Status

REQUIRED = ("report.json", "report.md", "report.html", "junit.xml", bundle.INFO, "repro.sh", bundle.PROFILE,
            attestation.FILE, bundle.SUMS)
MAX_LISTED = 5  # names shown in one finding; the rest counted
MAX_DOCUMENT_BYTES = 64 * 1024 * 1024  # report.json carries measurements; anything larger is not ours


class Unreadable(Exception):
    """The bundle cannot be read at all (exit 2): not a directory, or no document to check."""


@dataclass(frozen=True)
class Finding:
    check: str
    outcome: str  # "ok", "FAIL" or "skip"
    message: str

    def line(self) -> str:
        return f"{self.outcome:<4} {self.check}: {self.message}"


@dataclass(frozen=True)
class ImageClaim:
    """`--image`: what the verifier says the image is: a config digest and/or repo digests."""

    ref: str
    digests: tuple[str, ...]  # "sha256:…", any of which the subject must name


def _listed(items: list[str]) -> str:
    shown = ", ".join(items[:MAX_LISTED])
    return shown + (f" and {len(items) - MAX_LISTED} more" if len(items) > MAX_LISTED else "")


def _json(path: Path) -> Any:
    if path.stat().st_size > MAX_DOCUMENT_BYTES:
        raise ValueError(f"larger than {MAX_DOCUMENT_BYTES >> 20} MiB")
    return json.loads(path.read_text(encoding="utf-8"))


def _version(text: str) -> tuple[int, ...]:
    match = re.fullmatch(r"v?(\d+(?:\.\d+)*)", text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a version such as 0.1.0")
    return tuple(int(x) for x in match.group(1).split("."))


class _Bundle:
    """The documents of one bundle, read once; what could not be read is named, not raised."""

    def __init__(self, directory: Path):
        self.dir = directory
        self.problems: dict[str, str] = {}
        self.report = self._read("report.json", _json)
        self.info = self._read(bundle.INFO, _json)
        self.profile_text = self._read(bundle.PROFILE, lambda p: p.read_text(encoding="utf-8"))
        self.envelope, self.statement = None, None
        parsed = self._read(attestation.FILE, lambda p: attestation.read(p.read_text(encoding="utf-8")))
        if parsed:
            self.envelope, self.statement = parsed

    def _read(self, name: str, how):
        path = self.dir / name
        if not path.is_file():
            return None
        try:
            return how(path)
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            self.problems[name] = f"{name} cannot be read: {exc}"
            return None

    @property
    def predicate(self) -> dict[str, Any]:
        return (self.statement or {}).get("predicate") or {}

    @property
    def extension(self) -> dict[str, Any]:
        return self.predicate.get(attestation.EXTENSION) or {}


def verify(directory: str | Path, key: SSlibKey | None = None, key_name: str = "", image: ImageClaim | None = None,
           max_age_days: float | None = None, min_suite: str | None = None,
           now: datetime | None = None) -> list[Finding]:
    directory = Path(directory)
    if not directory.is_dir():
        raise Unreadable(f"{directory}: not a directory")
    b = _Bundle(directory)
    if b.report is None and b.statement is None:
        raise Unreadable(f"{directory}: neither report.json nor {attestation.FILE} can be read: not a bundle")
    now = now or datetime.now(timezone.utc)
    return [
        _files(b), _sums(b), _attestation(b), _signature(b, key, key_name), _signed_files(b), _subject(b, image),
        *_requirements(b), _verdict(b), _suite(b, min_suite), _age(b, max_age_days, now),
    ]


def _files(b: _Bundle) -> Finding:
    listed = {c.get("name") for c in b.predicate.get("configuration", []) if isinstance(c, dict)}
    required = list(REQUIRED) + [name for name in (bundle.VULN_REPORT, bundle.AGENT_CONFIG) if name in listed]
    missing = [name for name in required if not (b.dir / name).is_file()]
    if missing:
        return Finding("files", "FAIL", f"missing: {_listed(missing)}")
    return Finding("files", "ok", f"{len(required)} expected files present")


def _sums(b: _Bundle) -> Finding:
    if not (b.dir / bundle.SUMS).is_file():
        return Finding("sha256sums", "FAIL", f"{bundle.SUMS} is missing")
    try:
        problems = bundle.verify(b.dir)
    except (OSError, ValueError) as exc:
        return Finding("sha256sums", "FAIL", f"{bundle.SUMS} cannot be read: {exc}")
    if problems:
        return Finding("sha256sums", "FAIL", _listed(problems))
    return Finding("sha256sums", "ok", f"every file matches {bundle.SUMS}")


def _attestation(b: _Bundle) -> Finding:
    if attestation.FILE in b.problems:
        return Finding("attestation", "FAIL", b.problems[attestation.FILE])
    if b.statement is None:
        return Finding("attestation", "FAIL", f"{attestation.FILE} is missing")
    return Finding("attestation", "ok", f"in-toto Statement v1, {attestation.PREDICATE_TYPE}, result "
                                        f"{b.predicate.get('result')}")


def _signature(b: _Bundle, key: SSlibKey | None, key_name: str) -> Finding:
    if b.envelope is None:
        return Finding("signature", "FAIL", "no attestation to check")
    signatures = list(b.envelope.signatures.values())
    if key is None:
        state = f"signed by key ID {signatures[0].keyid[:16]}…" if signatures else "UNSIGNED"
        return Finding("signature", "skip", f"not checked: no --key given (the attestation is {state})")
    if not signatures:
        return Finding("signature", "FAIL", "the attestation is unsigned: the vendor ran --certify without --sign-key")
    for signature in signatures:
        try:
            b.envelope.verify([with_keyid(key, signature.keyid)], 1)
            return Finding("signature", "ok", f"verifies with {key_name} ({key.keytype})")
        except Exception:  # securesystemslib's VerificationError, or a signature of another key type
            continue
    return Finding("signature", "FAIL", f"does not verify with {key_name}: the attestation was signed by another key "
                                        f"(key ID {signatures[0].keyid[:16]}…) or changed after signing")


def _signed_files(b: _Bundle) -> Finding:
    signed = b.extension.get("files")
    if not isinstance(signed, list):
        return Finding("signed-files", "FAIL", "the statement names no bundle files")
    signed_map = {f.get("name"): (f.get("digest") or {}).get("sha256") for f in signed if isinstance(f, dict)}
    actual = bundle.digests(b.dir, exclude=(bundle.SUMS, attestation.FILE))
    changed = [f"{n} (signed {signed_map[n][:12]}…, now {actual[n][:12]}…)" for n in sorted(signed_map)
               if n in actual and actual[n] != signed_map[n]]
    problems = [f"differs from the statement: {x}" for x in changed]
    problems += [f"missing: {n}" for n in sorted(set(signed_map) - set(actual))]
    problems += [f"not in the statement: {n}" for n in sorted(set(actual) - set(signed_map))]
    if problems:
        return Finding("signed-files", "FAIL", _listed(problems))
    return Finding("signed-files", "ok", f"the {len(actual)} files are those the statement names")


def _subject(b: _Bundle, image: ImageClaim | None) -> Finding:
    subject = [s for s in (b.statement or {}).get("subject", []) if isinstance(s, dict)]
    digests = {f"sha256:{(s.get('digest') or {}).get('sha256', '')}" for s in subject}
    config = next((f"sha256:{s['digest']['sha256']}" for s in subject
                   if s.get("mediaType") == attestation.CONFIG_MEDIA_TYPE and "sha256" in (s.get("digest") or {})), "")
    if not config:
        return Finding("subject", "FAIL", "the statement's subject names no image config digest")
    report_id = ((b.report or {}).get("image") or {}).get("id", "")
    info_image = (b.info or {}).get("image") or {}
    if report_id != config:
        return Finding("subject", "FAIL", f"report.json's image is {report_id or 'unknown'}, the statement's "
                                          f"subject is {config}")
    if info_image.get("id") != config:
        return Finding("subject", "FAIL", f"{bundle.INFO} names image {info_image.get('id') or 'unknown'}, the "
                                          f"statement's subject is {config}")
    repo = {d.partition("@")[2] for d in info_image.get("repo_digests", [])}
    if repo != digests - {config}:
        return Finding("subject", "FAIL", f"{bundle.INFO}'s repo digests ({_listed(sorted(repo)) or 'none'}) are "
                                          f"not the statement's ({_listed(sorted(digests - {config})) or 'none'})")
    if image is not None and not set(image.digests) & digests:
        return Finding("subject", "FAIL", f"--image {image.ref} is {_listed(list(image.digests))}; the bundle "
                                          f"certifies {config}" + (f" ({_listed(sorted(repo))})" if repo else ""))
    also = f"; --image {image.ref} matches" if image is not None else ""
    return Finding("subject", "ok", f"image {config}" + (f" and {len(repo)} repo digest(s)" if repo else "") + also)


def _profile_levels(b: _Bundle) -> tuple[dict[str, str] | None, str]:
    """(ID → level of the recorded profile, "") or (None, why not)."""
    if b.profile_text is None:
        return None, f"{bundle.PROFILE} is missing"
    from .identity import sha256_bytes

    listed = next((c for c in b.predicate.get("configuration", []) if isinstance(c, dict)
                   and c.get("name") == bundle.PROFILE), None)
    digest = sha256_bytes(b.profile_text.encode())
    if listed is None or (listed.get("digest") or {}).get("sha256") != digest:
        return None, f"{bundle.PROFILE} is not the profile the statement names"
    try:
        contract = profiles.parse(b.profile_text, bundle.PROFILE)
    except ConfigError as exc:
        return None, f"{bundle.PROFILE} does not read with this suite: {exc}"
    return {r.id: r.level for r in contract.requirements()}, ""


def _junit_statuses(path: Path) -> dict[str, str]:
    """Requirement ID → status from junit.xml: the worst of its test cases."""
    statuses: dict[str, str] = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        rid = props.get("requirement")
        if not rid:
            continue
        status = Status.PASS
        for element, meaning in (("skipped", Status.SKIP), ("error", Status.ERROR), ("failure", Status.FAIL)):
            if case.find(element) is not None:
                status = meaning
        previous = statuses.get(rid)
        statuses[rid] = status if previous is None or SEVERITY[Status(status)] > SEVERITY[Status(previous)] else previous
    return statuses


def _requirements(b: _Bundle) -> list[Finding]:
    levels, why = _profile_levels(b)
    if levels is None:
        return [Finding("requirements", "FAIL", why)]
    if b.report is None:
        return [Finding("requirements", "FAIL", "report.json cannot be read")]
    rows = {r.get("id"): r for r in b.report.get("requirements", []) if isinstance(r, dict)}
    findings = []
    missing = [rid for rid in levels if rid not in rows]
    extra = [rid for rid in rows if rid not in levels]
    wrong_level = [f"{rid} ({rows[rid].get('level')}, the profile says {levels[rid]})" for rid in levels
                   if rid in rows and rows[rid].get("level") != levels[rid]]
    if missing or extra or wrong_level:
        parts = ([f"missing from report.json: {_listed(missing)}"] if missing else []) + (
            [f"not in the profile: {_listed(extra)}"] if extra else []) + (
            [f"level changed: {_listed(wrong_level)}"] if wrong_level else [])
        findings.append(Finding("requirements", "FAIL", "; ".join(parts)))
    else:
        findings.append(Finding("requirements", "ok", f"the {len(levels)} requirements of profile "
                                                      f"{(b.report.get('profile') or {}).get('name', '?')} are in "
                                                      "report.json"))
    try:
        junit = _junit_statuses(b.dir / "junit.xml")
    except (OSError, ET.ParseError) as exc:
        findings.append(Finding("junit", "FAIL", f"junit.xml cannot be read: {exc}"))
    else:
        absent = [f"{rid} (absent)" for rid in levels if rid not in junit]
        disagree = [f"{rid} (report {rows[rid].get('status')}, junit {junit[rid]})" for rid in levels
                    if rid in rows and rid in junit and junit[rid] != rows[rid].get("status")]
        if disagree or absent:
            findings.append(Finding("junit", "FAIL", f"junit.xml disagrees with report.json: {_listed(absent + disagree)}"))
        else:
            findings.append(Finding("junit", "ok", "junit.xml gives every requirement the status report.json does"))
    signed = {name: list(b.predicate.get(name) or []) for name in ("passedTests", "warnedTests", "failedTests")}
    expected = attestation.sorted_tests([{"id": rid, "level": levels[rid], "status": rows[rid].get("status")}
                                         for rid in levels if rid in rows])
    differ = [f"{rid} ({name})" for name in signed for rid in sorted(set(signed[name]) ^ set(expected[name]))]
    if differ:
        findings.append(Finding("signed-results", "FAIL", f"the statement's test lists disagree with report.json: "
                                                          f"{_listed(differ)}"))
    else:
        findings.append(Finding("signed-results", "ok", f"{len(signed['passedTests'])} passed, "
                                                        f"{len(signed['warnedTests'])} warned, "
                                                        f"{len(signed['failedTests'])} failed, as report.json says"))
    return findings


def _verdict(b: _Bundle) -> Finding:
    if b.report is None:
        return Finding("verdict", "FAIL", "report.json cannot be read")
    recomputed = completeness.verdict(b.report.get("requirements", []), certify=True)
    recorded = {"report.json": b.report.get("verdict"), bundle.INFO: (b.info or {}).get("verdict"),
                "statement": b.extension.get("verdict")}
    wrong = [f"{where} says {said}" for where, said in recorded.items() if said != recomputed]
    if wrong:
        return Finding("verdict", "FAIL", f"recomputed from the statuses: {recomputed}; {'; '.join(wrong)}")
    tests = attestation.sorted_tests(b.report.get("requirements", []))
    if b.predicate.get("result") != attestation.result(recomputed, tests):
        return Finding("verdict", "FAIL", f"the statement's result is {b.predicate.get('result')}, the statuses give "
                                          f"{attestation.result(recomputed, tests)}")
    return Finding("verdict", "ok", f"{recomputed}, as recomputed from the statuses")


def _suite(b: _Bundle, min_suite: str | None) -> Finding:
    configuration = [c for c in b.predicate.get("configuration", []) if isinstance(c, dict)]
    signed = next((c.get("annotations", {}).get("version") for c in configuration
                   if c.get("name") == "agent-conformance"), None)
    versions = {"report.json": ((b.report or {}).get("suite") or {}).get("version"),
                bundle.INFO: ((b.info or {}).get("suite") or {}).get("version"), "statement": signed}
    if len(set(versions.values())) != 1:
        return Finding("suite", "FAIL", "suite versions disagree: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    version = signed or ""
    if min_suite is None:
        return Finding("suite", "ok", f"agent-conformance {version}")
    try:
        accepted = _version(version) >= _version(min_suite)
    except ValueError as exc:
        return Finding("suite", "FAIL", str(exc))
    if not accepted:
        return Finding("suite", "FAIL", f"agent-conformance {version} is older than --min-suite {min_suite}: "
                                        "certify again with a newer suite")
    return Finding("suite", "ok", f"agent-conformance {version} ≥ {min_suite}")


def _age(b: _Bundle, max_age_days: float | None, now: datetime) -> Finding:
    created = b.extension.get("created", "")
    try:
        when = datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    except (TypeError, ValueError):
        return Finding("age", "FAIL", f"the statement's creation time {created!r} is not a UTC timestamp")
    age = now - when
    if age < -timedelta(minutes=5):
        return Finding("age", "FAIL", f"created {created}, in the future")
    days = age.total_seconds() / 86400
    if max_age_days is not None and days > max_age_days:
        return Finding("age", "FAIL", f"created {created}, {days:.1f} days ago: older than --max-age {max_age_days:g} "
                                      "days; certify again")
    return Finding("age", "ok", f"created {created} ({days:.1f} days ago)")
