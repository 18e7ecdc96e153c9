"""The attestation and its verifier on bundles written by the real report code (no Docker): keys
as openssl and cosign write them, the DSSE signature checked by a second implementation, and
each way a bundle can be wrong found by its own line."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
from datetime import datetime, timedelta, timezone

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from conformance import certification
from conformance.contract import profile
from conformance.contract.agent_config import AgentConfig
from conformance.errors import ConfigError
from conformance.report import attestation, bundle, keys, verify
from conformance.report.results import Status
from tests.unit.certified import IMAGE_ID, make_bundle, openssl_key, resum


def _lines(findings) -> dict[str, str]:
    return {f.check: f.line() for f in findings}


def _failed(findings) -> dict[str, str]:
    return {f.check: f.line() for f in findings if f.outcome == "FAIL"}


def _envelope(directory):
    return json.loads((directory / attestation.FILE).read_text())


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE's pre-authentication encoding, written here from the spec, not taken from the signer."""
    kind = payload_type.encode()
    return b"DSSEv1 " + str(len(kind)).encode() + b" " + kind + b" " + str(len(payload)).encode() + b" " + payload


@pytest.fixture(scope="module")
def signed(tmp_path_factory):
    """One bundle signed with an openssl Ed25519 key, read-only for the tests that share it."""
    work = tmp_path_factory.mktemp("signed")
    private, public = openssl_key(work)
    return make_bundle(work / "bundle", sign_key=private), public


@pytest.fixture
def copy(signed, tmp_path):
    """A bundle of one's own to spoil (a copy of the signed one)."""
    import shutil

    directory, public = signed
    shutil.copytree(directory, tmp_path / "bundle")
    return tmp_path / "bundle", public


@pytest.mark.parametrize("kind", ["ed25519", "p256"])
def test_a_second_implementation_verifies_the_signature_over_the_pae(tmp_path, kind):
    private, public = openssl_key(tmp_path, kind)
    directory = make_bundle(tmp_path / "bundle", sign_key=private)
    envelope = _envelope(directory)
    payload = base64.b64decode(envelope["payload"])
    (signature,) = envelope["signatures"]
    key = serialization.load_pem_public_key(public.read_bytes())
    message = pae(envelope["payloadType"], payload)
    sig = base64.b64decode(signature["sig"])
    if kind == "ed25519":
        key.verify(sig, message)
    else:
        key.verify(sig, message, ec.ECDSA(hashes.SHA256()))
    with pytest.raises(InvalidSignature):  # the check can fail: one byte of the payload changed
        tampered = pae(envelope["payloadType"], payload.replace(b'"PASSED"', b'"FAILED"'))
        key.verify(sig, tampered) if kind == "ed25519" else key.verify(sig, tampered, ec.ECDSA(hashes.SHA256()))
    statement = json.loads(payload)
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == "https://in-toto.io/attestation/test-result/v0.1"


def test_the_statement_names_the_image_the_configuration_and_every_requirement_once(signed):
    directory, _ = signed
    statement = json.loads(base64.b64decode(_envelope(directory)["payload"]))
    assert statement["subject"] == [
        {"name": "agent:v1", "digest": {"sha256": "a" * 64}, "mediaType": attestation.CONFIG_MEDIA_TYPE},
        {"name": "registry.example/agent", "digest": {"sha256": "b" * 64}}]
    predicate = statement["predicate"]
    assert predicate["result"] == "PASSED"
    names = [c["name"] for c in predicate["configuration"]]
    assert names == ["agent-conformance", bundle.PROFILE, "agent config (default)", bundle.VULN_REPORT]
    profile_digest = hashlib.sha256((directory / bundle.PROFILE).read_bytes()).hexdigest()
    assert predicate["configuration"][1]["digest"] == {"sha256": profile_digest}
    report = json.loads((directory / "report.json").read_text())
    ids = [r["id"] for r in report["requirements"]]
    assert sorted(predicate["passedTests"]) == sorted(ids) and not predicate["warnedTests"] + predicate["failedTests"]
    signed_files = {f["name"] for f in predicate[attestation.EXTENSION]["files"]}
    assert {"report.json", "junit.xml", "certification.json", bundle.PROFILE} <= signed_files
    assert attestation.FILE not in signed_files and bundle.SUMS not in signed_files


def test_result_and_test_lists_follow_the_levels():
    rows = [{"id": "A", "level": "MUST", "status": "pass"}, {"id": "B", "level": "SHOULD", "status": "fail"},
            {"id": "C", "level": "MUST", "status": "skip"}, {"id": "D", "level": "SHOULD", "status": "skip"}]
    tests = attestation.sorted_tests(rows)
    assert tests == {"passedTests": ["A"], "warnedTests": ["B", "D"], "failedTests": ["C"]}
    assert attestation.result("incomplete", tests) == "FAILED"
    assert attestation.result("pass", attestation.sorted_tests(rows[:2])) == "WARNED"
    assert attestation.result("pass", attestation.sorted_tests(rows[:1])) == "PASSED"


def test_a_signed_bundle_verifies_with_its_key(signed):
    directory, public = signed
    findings = verify.verify(directory, keys.load_public(public), str(public),
                             verify.ImageClaim("registry.example/agent@sha256:" + "b" * 64, ("sha256:" + "b" * 64,)),
                             max_age_days=1, min_suite="0.1")
    assert _failed(findings) == {}
    assert _lines(findings)["signature"].startswith("ok   signature: verifies with")
    assert [f.check for f in findings] == ["files", "sha256sums", "attestation", "signature", "signed-files", "subject",
                                           "requirements", "junit", "signed-results", "verdict", "suite", "age"]


def test_editing_the_report_and_regenerating_sha256sums_is_found(copy):
    directory, public = copy
    report = json.loads((directory / "report.json").read_text())
    report["requirements"][0]["evidence"] = ["all good, trust me"]
    (directory / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    resum(directory)
    failed = _failed(verify.verify(directory, keys.load_public(public), "pub"))
    assert list(failed) == ["signed-files"]
    assert "differs from the statement: report.json (signed" in failed["signed-files"]


def test_editing_the_statement_breaks_the_signature(copy):
    directory, public = copy
    envelope = _envelope(directory)
    statement = json.loads(base64.b64decode(envelope["payload"]))
    statement["predicate"]["result"] = "PASSED"
    statement["subject"][0]["digest"]["sha256"] = "c" * 64
    envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    (directory / attestation.FILE).write_text(json.dumps(envelope) + "\n")
    resum(directory)
    failed = _failed(verify.verify(directory, keys.load_public(public), "pub"))
    assert "does not verify with pub" in failed["signature"]
    assert "report.json's image is sha256:aaaa" in failed["subject"]


def test_a_wrong_key_fails_on_its_own_line(signed, tmp_path):
    directory, _ = signed
    _, other = openssl_key(tmp_path)
    failed = _failed(verify.verify(directory, keys.load_public(other), str(other)))
    assert list(failed) == ["signature"]
    assert f"does not verify with {other}" in failed["signature"]


def test_another_image_fails_on_its_own_line(signed):
    directory, _ = signed
    other = verify.ImageClaim("agent@sha256:" + "d" * 64, ("sha256:" + "d" * 64,))
    failed = _failed(verify.verify(directory, image=other))
    assert list(failed) == ["subject"]
    assert failed["subject"] == (f"FAIL subject: --image agent@sha256:{'d' * 64} is sha256:{'d' * 64}; the bundle "
                                 f"certifies {IMAGE_ID} (sha256:{'b' * 64})")


def test_a_dropped_requirement_fails_on_its_own_line(copy):
    directory, public = copy
    report = json.loads((directory / "report.json").read_text())
    report["requirements"] = [r for r in report["requirements"] if r["id"] != "READY-200"]
    (directory / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    resum(directory)
    failed = _failed(verify.verify(directory, keys.load_public(public), "pub"))
    assert failed["requirements"] == "FAIL requirements: missing from report.json: READY-200"


def test_an_expired_bundle_fails_on_its_own_line(signed):
    directory, _ = signed
    later = datetime.now(timezone.utc) + timedelta(days=40)
    failed = _failed(verify.verify(directory, max_age_days=30, now=later))
    assert list(failed) == ["age"]
    assert "older than --max-age 30 days" in failed["age"]


def test_an_old_suite_is_refused(signed):
    directory, _ = signed
    failed = _failed(verify.verify(directory, min_suite="0.2"))
    assert list(failed) == ["suite"] and "older than --min-suite 0.2" in failed["suite"]


def test_junit_disagreeing_with_the_report_is_found(copy):
    directory, public = copy
    junit = (directory / "junit.xml").read_text()
    start = junit.index('<property name="requirement" value="HEALTH-200"')
    end = junit.index("</testcase>", start)
    junit = junit[:end] + '<failure message="HEALTH-200: forged" />' + junit[end:]
    (directory / "junit.xml").write_text(junit)
    resum(directory)
    failed = _failed(verify.verify(directory, keys.load_public(public), "pub"))
    assert failed["junit"] == "FAIL junit: junit.xml disagrees with report.json: HEALTH-200 (report pass, junit fail)"


def test_a_verdict_that_the_statuses_do_not_give_is_found(copy):
    directory, _ = copy
    report = json.loads((directory / "report.json").read_text())
    report["requirements"][0]["status"] = "fail"  # a MUST failed, the verdict still says pass
    (directory / "report.json").write_text(json.dumps(report))
    failed = _failed(verify.verify(directory))
    assert failed["verdict"].startswith("FAIL verdict: recomputed from the statuses: fail; report.json says pass")


def test_an_unsigned_bundle_fails_only_when_a_key_is_asked_for(tmp_path):
    _, public = openssl_key(tmp_path)
    directory = make_bundle(tmp_path / "bundle")
    assert _envelope(directory)["signatures"] == []
    report = json.loads((directory / "report.json").read_text())
    assert report["attestation"] == {"signed": False}
    assert "Attestation: UNSIGNED (no --sign-key)" in (directory / "report.md").read_text()
    findings = verify.verify(directory)
    assert _lines(findings)["signature"] == ("skip signature: not checked: no --key given (the attestation is "
                                             "UNSIGNED)")
    assert _failed(findings) == {}
    failed = _failed(verify.verify(directory, keys.load_public(public), "pub"))
    assert failed == {"signature": "FAIL signature: the attestation is unsigned: the vendor ran --certify without "
                                   "--sign-key"}


def test_a_missing_file_and_a_missing_bundle(copy, tmp_path):
    directory, _ = copy
    (directory / "junit.xml").unlink()
    assert _failed(verify.verify(directory))["files"] == "FAIL files: missing: junit.xml"
    with pytest.raises(verify.Unreadable, match="not a directory"):
        verify.verify(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(verify.Unreadable, match="not a bundle"):
        verify.verify(tmp_path / "empty")


def test_an_incomplete_certification_verifies_as_incomplete(tmp_path):
    directory = make_bundle(tmp_path / "bundle", overrides={"NO-CRITICAL-VULNS": Status.SKIP}, vuln_report=None)
    report = json.loads((directory / "report.json").read_text())
    assert report["verdict"] == "incomplete"
    assert report["completeness"]["unchecked_must"][0]["id"] == "NO-CRITICAL-VULNS"
    assert report["completeness"]["unchecked_must"][0]["reason"].startswith("a certification needs a scanner report")
    assert "Verdict: INCOMPLETE" in (directory / "report.md").read_text()
    assert 'name="unchecked_must" value="NO-CRITICAL-VULNS: a certification needs' in (directory / "junit.xml").read_text()
    statement = json.loads(base64.b64decode(_envelope(directory)["payload"]))
    assert statement["predicate"]["result"] == "FAILED" and statement["predicate"]["failedTests"] == ["NO-CRITICAL-VULNS"]
    assert _lines(verify.verify(directory))["verdict"] == "ok   verdict: incomplete, as recomputed from the statuses"


# -- keys ------------------------------------------------------------------------------------------


def test_keys_as_openssl_writes_them(tmp_path):
    sec1 = tmp_path / "sec1.pem"
    subprocess.run(["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", str(sec1)], check=True,
                   capture_output=True, timeout=30)
    assert "EC PRIVATE KEY" in sec1.read_text()
    assert keys.load_signer(sec1).public_key.scheme == "ecdsa-sha2-nistp256"
    private, public = openssl_key(tmp_path, "ed25519")
    assert keys.load_signer(private).public_key.keyid == keys.load_public(public).keyid


def test_an_encrypted_key_needs_its_passphrase(tmp_path, monkeypatch):
    private, _ = openssl_key(tmp_path)
    encrypted = tmp_path / "enc.pem"
    subprocess.run(["openssl", "pkey", "-in", str(private), "-aes256", "-passout", "pass:s3cret", "-out",
                    str(encrypted)], check=True, capture_output=True, timeout=30)
    monkeypatch.delenv(keys.PASSWORD_ENV, raising=False)
    with pytest.raises(ConfigError, match=rf"an encrypted key: set \${keys.PASSWORD_ENV}"):
        keys.load_signer(encrypted)
    monkeypatch.setenv(keys.PASSWORD_ENV, "s3cret")
    assert keys.load_signer(encrypted).public_key.keytype == "ed25519"


def _cosign_key(path, password: str, private) -> None:
    """A key file in cosign's encrypted format (scrypt, then NaCl secretbox over PKCS#8 DER), as
    `cosign generate-key-pair` writes it."""
    from nacl.secret import SecretBox
    from nacl.utils import random as nacl_random

    salt, nonce = os.urandom(32), nacl_random(SecretBox.NONCE_SIZE)
    secret = hashlib.scrypt(password.encode(), salt=salt, n=32768, r=8, p=1, dklen=32, maxmem=64 << 20)
    der = private.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    doc = {"kdf": {"name": "scrypt", "params": {"N": 32768, "r": 8, "p": 1}, "salt": base64.b64encode(salt).decode()},
           "cipher": {"name": "nacl/secretbox", "nonce": base64.b64encode(nonce).decode()},
           "ciphertext": base64.b64encode(SecretBox(secret).encrypt(der, nonce).ciphertext).decode()}
    body = base64.b64encode(json.dumps(doc).encode()).decode()
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    path.write_text("\n".join(["-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----", *lines,
                               "-----END ENCRYPTED SIGSTORE PRIVATE KEY-----", ""]))


def test_a_cosign_key_opens_with_cosign_password(tmp_path, monkeypatch):
    private = ec.generate_private_key(ec.SECP256R1())
    path = tmp_path / "cosign.key"
    _cosign_key(path, "pw", private)
    monkeypatch.delenv(keys.COSIGN_PASSWORD_ENV, raising=False)
    with pytest.raises(ConfigError, match=r"a cosign key: set \$COSIGN_PASSWORD"):
        keys.load_signer(path)
    monkeypatch.setenv(keys.COSIGN_PASSWORD_ENV, "wrong")
    with pytest.raises(ConfigError, match="does not open with \\$COSIGN_PASSWORD: wrong password"):
        keys.load_signer(path)
    monkeypatch.setenv(keys.COSIGN_PASSWORD_ENV, "pw")
    signer = keys.load_signer(path)
    expected = private.public_key().public_bytes(serialization.Encoding.PEM,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    assert keys.public_pem(signer).strip() == expected.strip()


@pytest.mark.parametrize("key, message", [
    (rsa.generate_private_key(public_exponent=65537, key_size=2048), "a RSAPrivateKey; expected Ed25519 or ECDSA P-256"),
    (ec.generate_private_key(ec.SECP384R1()), "an elliptic-curve key on secp384r1; expected Ed25519 or ECDSA P-256"),
])
def test_other_key_types_are_refused_in_one_line(tmp_path, key, message):
    path = tmp_path / "k.pem"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    with pytest.raises(ConfigError) as info:
        keys.load_signer(path)
    assert str(info.value) == f"--sign-key {path}: {message}"


def test_not_a_key_and_a_public_key_given_to_sign(tmp_path):
    (tmp_path / "x.pem").write_text("hello")
    with pytest.raises(ConfigError, match="not a PEM key file"):
        keys.load_signer(tmp_path / "x.pem")
    _, public = openssl_key(tmp_path)
    with pytest.raises(ConfigError, match="not a private key this suite can read \\(PUBLIC KEY"):
        keys.load_signer(public)
    with pytest.raises(ConfigError, match="cannot be read"):
        keys.load_public(tmp_path / "absent.pub")


def test_a_sign_key_without_certify_is_refused():
    with pytest.raises(ConfigError, match="--sign-key k.pem: it signs the certification bundle; give --certify"):
        certification.prepare(certify=False, sign_key="k.pem", expected_failures=None,
                              contract=profile.load(profile.DEFAULT), agent_config=AgentConfig())


def test_keyid_is_a_hint_not_the_key(copy):
    """A signature whose keyid another tool set differently still verifies with the right key."""
    directory, public = copy
    envelope = _envelope(directory)
    envelope["signatures"][0]["keyid"] = "set-by-another-tool"
    (directory / attestation.FILE).write_text(json.dumps(envelope) + "\n")
    resum(directory)
    findings = verify.verify(directory, keys.load_public(public), "pub")
    assert _failed(findings) == {} and _lines(findings)["signature"].startswith("ok   signature: verifies with pub")
