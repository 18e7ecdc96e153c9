"""The certifier's commands: `agent-conformance verify DIR` and `agent-conformance diff A B`.

Both read documents only. `verify --image REF` asks the local engine what REF is only when REF
carries no digest (`registry/agent@sha256:…` or `sha256:…` is compared as given, offline).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .errors import ConfigError, InfrastructureError
from .image.reference import split_digest

EXIT_OK, EXIT_FINDINGS, EXIT_UNREADABLE = 0, 1, 2


def verify_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="agent-conformance verify",
        description="Check a certification bundle: files, SHA256SUMS, the attestation's signature, the image it "
                    "certifies, every requirement of its profile in report.json and junit.xml, the verdict, the "
                    "suite version and the bundle's age. One line per check.",
        epilog="Exit status: 0 every check passed, 1 a check failed, 2 the bundle cannot be read or an option is bad.")
    parser.add_argument("bundle", metavar="DIR", help="the bundle (the --certify directory)")
    parser.add_argument("--key", metavar="PUB", help="the vendor's public key (PEM), to verify the signature with")
    parser.add_argument("--image", metavar="REF", help="the image the bundle must certify: IMAGE@sha256:…, sha256:… "
                        "(compared offline) or a local image reference (asked of the engine)")
    parser.add_argument("--max-age", metavar="DAYS", type=float, help="refuse a bundle older than this")
    parser.add_argument("--min-suite", metavar="VERSION", help="refuse a bundle made by an older suite")
    args = parser.parse_args(argv)
    from .report import keys, verify  # securesystemslib and cryptography: only for this command

    started = time.monotonic()
    try:
        key = keys.load_public(args.key) if args.key else None
        claim = _image_claim(args.image) if args.image else None
        findings = verify.verify(Path(args.bundle), key, args.key or "", claim, args.max_age, args.min_suite)
    except (ConfigError, InfrastructureError, verify.Unreadable) as exc:
        print(f"agent-conformance verify: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    for finding in findings:
        print(finding.line())
    failed = [f for f in findings if f.outcome == "FAIL"]
    print(f"{'REFUSED' if failed else 'VERIFIED'}: {args.bundle}: {len(failed)} of {len(findings)} checks failed "
          f"({time.monotonic() - started:.2f} s)")
    return EXIT_FINDINGS if failed else EXIT_OK


def _image_claim(ref: str):
    from .report.verify import ImageClaim

    pinned = split_digest(ref)
    if pinned is not None:
        return ImageClaim(ref, (pinned[1],))
    if ref.startswith("sha256:") and len(ref) == 71:
        return ImageClaim(ref, (ref,))
    from .candidate.engine import connect, inspect_image  # a tag means nothing offline: ask the engine
    from .image.reference import digests_of

    client = connect()
    try:
        return ImageClaim(ref, tuple(d for d in digests_of(inspect_image(client, ref)) if d))
    finally:
        client.close()


def diff_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="agent-conformance diff",
        description="Compare two runs requirement by requirement: status changes and the evidence lines only one "
                    "side has (lines that differ only in measured figures are counted, not listed).",
        epilog="Exit status: 0 the same statuses, 1 a status differs, 2 an argument cannot be read.")
    parser.add_argument("a", metavar="A", help="a bundle directory or a report.json")
    parser.add_argument("b", metavar="B", help="a bundle directory or a report.json")
    args = parser.parse_args(argv)
    from .report import diff

    try:
        lines, differ = diff.diff(diff.load(args.a), diff.load(args.b))
    except diff.Unreadable as exc:
        print(f"agent-conformance diff: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    print("\n".join(lines))
    return EXIT_FINDINGS if differ else EXIT_OK
