"""The keys an attestation is signed and verified with: Ed25519 or ECDSA P-256, in the PEM files
openssl and cosign write.

Private keys (`--sign-key`):
- PKCS#8 `PRIVATE KEY` (`openssl genpkey -algorithm ed25519`, `openssl genpkey -algorithm EC
  -pkeyopt ec_paramgen_curve:P-256`), or `ENCRYPTED PRIVATE KEY` with the passphrase in
  `$AGENT_CONFORMANCE_KEY_PASSWORD`;
- SEC1 `EC PRIVATE KEY` (`openssl ecparam -name prime256v1 -genkey`);
- cosign's `ENCRYPTED SIGSTORE PRIVATE KEY` (`cosign generate-key-pair`; older cosign wrote
  `ENCRYPTED COSIGN PRIVATE KEY`), with the password in `$COSIGN_PASSWORD` as cosign reads it: a
  JSON document (scrypt parameters, a NaCl secretbox nonce, the ciphertext of a PKCS#8 key),
  opened with PyNaCl.

Public keys (`verify --key`): `PUBLIC KEY` (SubjectPublicKeyInfo), as `openssl pkey -pubout` and
`cosign public-key` write it.

Signing and verifying go through securesystemslib (`CryptoSigner`, `SSlibKey`); nothing here
implements a primitive.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from securesystemslib.signer import CryptoSigner, SSlibKey

from ..errors import ConfigError

PASSWORD_ENV = "AGENT_CONFORMANCE_KEY_PASSWORD"
COSIGN_PASSWORD_ENV = "COSIGN_PASSWORD"
_COSIGN_TYPES = ("ENCRYPTED SIGSTORE PRIVATE KEY", "ENCRYPTED COSIGN PRIVATE KEY")
MAX_KEY_BYTES = 64 * 1024
# scrypt's memory is 128·N·r bytes: cosign's default (N=65536, r=8) takes 64 MiB; a file asking
# for more than this is not cosign's and is refused rather than obeyed.
_SCRYPT_MAX_MEMORY = 256 * 1024 * 1024
SUPPORTED = "Ed25519 or ECDSA P-256"


def _read(path: Path, what: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_KEY_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{what} {path}: cannot be read ({exc.strerror or exc})") from None
    if len(data) > MAX_KEY_BYTES or b"-----BEGIN " not in data:
        raise ConfigError(f"{what} {path}: not a PEM key file")
    return data


def _pem_type(data: bytes) -> str:
    return data.split(b"-----BEGIN ", 1)[1].split(b"-----", 1)[0].decode("ascii", "replace")


def _supported(key, path: Path, what: str):
    if isinstance(key, (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey)):
        return key
    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)) and isinstance(key.curve, ec.SECP256R1):
        return key
    kind = f"an elliptic-curve key on {key.curve.name}" if hasattr(key, "curve") else f"a {type(key).__name__}"
    raise ConfigError(f"{what} {path}: {kind}; expected {SUPPORTED}")


def _cosign_der(data: bytes, path: Path) -> bytes:
    """The PKCS#8 DER inside cosign's encrypted key file."""
    from nacl.exceptions import CryptoError  # only for cosign's format
    from nacl.secret import SecretBox

    password = os.environ.get(COSIGN_PASSWORD_ENV)
    if password is None:
        raise ConfigError(f"--sign-key {path}: a cosign key: set ${COSIGN_PASSWORD_ENV} to its password "
                          "(empty if it has none)")
    try:
        body = b"".join(line for line in data.splitlines() if line and not line.startswith(b"-----"))
        doc = json.loads(base64.b64decode(body))
        kdf, cipher = doc["kdf"], doc["cipher"]
        params = kdf["params"]
        n, r, p = int(params["N"]), int(params["r"]), int(params["p"])
        if kdf["name"] != "scrypt" or cipher["name"] != "nacl/secretbox":
            raise ValueError(f"kdf {kdf['name']}, cipher {cipher['name']}")
        if 128 * n * r > _SCRYPT_MAX_MEMORY:
            raise ValueError(f"scrypt N={n}, r={r} needs more than {_SCRYPT_MAX_MEMORY >> 20} MiB")
        secret = hashlib.scrypt(password.encode(), salt=base64.b64decode(kdf["salt"]), n=n, r=r, p=p, dklen=32,
                                maxmem=_SCRYPT_MAX_MEMORY + 1024 * 1024)
        return SecretBox(secret).decrypt(base64.b64decode(doc["ciphertext"]), base64.b64decode(cipher["nonce"]))
    except CryptoError:
        raise ConfigError(f"--sign-key {path}: the cosign key does not open with ${COSIGN_PASSWORD_ENV}: "
                          "wrong password") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"--sign-key {path}: not a cosign key file as cosign writes it ({exc})") from None


def load_signer(path: str | Path) -> CryptoSigner:
    """A securesystemslib signer for the private key in `path`; refused in one line naming the file."""
    path = Path(path)
    data = _read(path, "--sign-key")
    kind = _pem_type(data)
    try:
        if kind in _COSIGN_TYPES:
            key = serialization.load_der_private_key(_cosign_der(data, path), password=None)
        else:
            password = os.environ.get(PASSWORD_ENV)
            if kind == "ENCRYPTED PRIVATE KEY" and password is None:
                raise ConfigError(f"--sign-key {path}: an encrypted key: set ${PASSWORD_ENV} to its passphrase")
            key = serialization.load_pem_private_key(data, password=password.encode() if password and kind ==
                                                     "ENCRYPTED PRIVATE KEY" else None)
    except ConfigError:
        raise
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"--sign-key {path}: not a private key this suite can read ({kind}: {exc})") from None
    return CryptoSigner(_supported(key, path, "--sign-key"))


def load_public(path: str | Path) -> SSlibKey:
    """The public key in `path` as securesystemslib verifies with it."""
    path = Path(path)
    data = _read(path, "--key")
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"--key {path}: not a public key ({_pem_type(data)}: {exc}); give the PUBLIC KEY PEM "
                          "(`openssl pkey -pubout`, `cosign public-key`)") from None
    return SSlibKey.from_crypto(_supported(key, path, "--key"))


def public_pem(signer: CryptoSigner) -> str:
    """The signer's public key as a PEM, to name in the report and hand to the certifier."""
    return signer.public_key.keyval["public"]


def with_keyid(key: SSlibKey, keyid: str) -> SSlibKey:
    """The same key under another key ID. DSSE's `keyid` is only a hint (securesystemslib matches on
    it, its issue #416): a signature is accepted or refused on the key's bytes, not on a label the
    signer chose."""
    return SSlibKey(keyid, key.keytype, key.scheme, key.keyval)
