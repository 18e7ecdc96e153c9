"""The bundle's `attestation.intoto.jsonl`: an in-toto Statement v1 with the test-result predicate
(`https://in-toto.io/attestation/test-result/v0.1`) in a DSSE envelope, one JSON line.

- `subject`: the image: its config digest (the image ID, which the engine computes from the image's
  own bytes) and every repo digest the engine knows (a registry's manifest digest).
- `predicate.result`: PASSED (verdict pass, every SHOULD met), WARNED (verdict pass, a SHOULD not
  met) or FAILED (verdict fail or incomplete).
- `predicate.configuration`: resource descriptors with digests of what decided the result: the
  suite, the profile, the agent config and the scanner report.
- `passedTests` / `warnedTests` / `failedTests`: requirement IDs. Every ID of the profile is in
  exactly one: passed; warned (a SHOULD that failed, errored or was not checked); failed (a MUST
  that failed, errored or was not checked).
- `predicate.agentConformance`: an extension field (the framework's parsing rules: consumers ignore
  fields they do not know): when the run ended, its verdict, and the SHA-256 of every other file of
  the bundle, so that the signature covers the evidence too, not only the statuses.

Signed with securesystemslib's `dsse.Envelope` when a key is given; otherwise the envelope has no
signature and the report says so.
"""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING, Any

from ..contract.catalogue import MUST
from ..warm_imports import in_background
from .completeness import FAIL, INCOMPLETE
from .results import Status

if TYPE_CHECKING:  # securesystemslib (40 ms) is imported when an envelope is made or read, not by every run
    from securesystemslib.dsse import Envelope
    from securesystemslib.signer import CryptoSigner

FILE = "attestation.intoto.jsonl"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://in-toto.io/attestation/test-result/v0.1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
EXTENSION = "agentConformance"
CONFIG_MEDIA_TYPE = "application/vnd.oci.image.config.v1+json"


def sorted_tests(requirements: list[dict[str, Any]]) -> dict[str, list[str]]:
    """passedTests, warnedTests, failedTests: each ID of the report in exactly one."""
    lists: dict[str, list[str]] = {"passedTests": [], "warnedTests": [], "failedTests": []}
    for r in requirements:
        if r["status"] == Status.PASS:
            lists["passedTests"].append(r["id"])
        else:
            lists["failedTests" if r["level"] == MUST else "warnedTests"].append(r["id"])
    return lists


def result(verdict: str, tests: dict[str, list[str]]) -> str:
    if verdict in (FAIL, INCOMPLETE) or tests["failedTests"]:
        return "FAILED"
    return "WARNED" if tests["warnedTests"] else "PASSED"


def subject(image: dict[str, Any]) -> list[dict[str, Any]]:
    """The image as resource descriptors: its config digest first, then each repo digest."""
    items = []
    if image.get("id", "").startswith("sha256:"):
        items.append({"name": image["ref"].partition("@")[0], "digest": {"sha256": image["id"].removeprefix("sha256:")},
                      "mediaType": CONFIG_MEDIA_TYPE})
    for repo_digest in image.get("repo_digests", []):
        name, _, digest = repo_digest.partition("@")
        if digest.startswith("sha256:"):
            items.append({"name": name, "digest": {"sha256": digest.removeprefix("sha256:")}})
    return items


def statement(report: dict[str, Any], image: dict[str, Any], configuration: list[dict[str, Any]],
              created: str, files: dict[str, str]) -> dict[str, Any]:
    """`image`: certification.json's image section (ref, id, repo_digests). `files`: bundle path →
    SHA-256 of every file the statement vouches for."""
    tests = sorted_tests(report["requirements"])
    return {
        "_type": STATEMENT_TYPE,
        "subject": subject(image),
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "result": result(report["verdict"], tests),
            "configuration": configuration,
            **tests,
            EXTENSION: {
                "created": created,
                "verdict": report["verdict"],
                "files": [{"name": name, "digest": {"sha256": files[name]}} for name in sorted(files)],
            },
        },
    }


def warm_up() -> threading.Thread:
    """Import securesystemslib in a thread, for a run that will write a bundle: started while the
    candidates boot, so the envelope at the end does not wait for it."""
    return in_background("securesystemslib.dsse", "dsse-import")


def envelope(statement_doc: dict[str, Any], signer: CryptoSigner | None) -> dict[str, Any]:
    """The DSSE envelope of the statement; signed when there is a signer."""
    from securesystemslib.dsse import Envelope

    payload = json.dumps(statement_doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    env = Envelope(payload, PAYLOAD_TYPE, {})
    if signer is not None:
        env.sign(signer)
    return env.to_dict()


def line(envelope_doc: dict[str, Any]) -> str:
    """The `.intoto.jsonl` form: one envelope per line."""
    return json.dumps(envelope_doc, separators=(",", ":")) + "\n"


def read(text: str) -> tuple[Envelope, dict[str, Any]]:
    """(envelope, statement) from the file's text; ValueError naming what is wrong."""
    from securesystemslib.dsse import Envelope

    lines = [x for x in text.splitlines() if x.strip()]
    if len(lines) != 1:
        raise ValueError(f"expected one envelope line, found {len(lines)}")
    try:
        data = json.loads(lines[0])
        env = Envelope.from_dict({**data, "signatures": [dict(s) for s in data.get("signatures", [])]})
        doc = json.loads(env.payload)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise ValueError(f"not a DSSE envelope of a JSON statement ({type(exc).__name__}: {exc})") from None
    if env.payload_type != PAYLOAD_TYPE:
        raise ValueError(f"payloadType is {env.payload_type!r}, expected {PAYLOAD_TYPE}")
    if not isinstance(doc, dict) or doc.get("_type") != STATEMENT_TYPE or doc.get("predicateType") != PREDICATE_TYPE:
        raise ValueError(f"not an in-toto Statement v1 with predicate {PREDICATE_TYPE}")
    return env, doc
