"""The run's certification inputs, read once before any container starts, and what they add to
the report: identity, completeness (the `incomplete` verdict under --certify), whether the
attestation is signed, and the --expected-failures gate; and the exit status they give.

The plugin calls `prepare` from pytest_configure, `amend` on each report it builds and
`exit_status` at the end; no pytest here, so the session's orchestration can move without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .contract.agent_config import AgentConfig
from .contract.profile import Profile
from .errors import ConfigError
from .report import bundle, completeness, expectations, identity

if TYPE_CHECKING:  # securesystemslib and cryptography (40 ms): imported only when a key is given
    from securesystemslib.signer import CryptoSigner


@dataclass(frozen=True)
class Inputs:
    certify: bool
    contract: Profile
    agent_config: AgentConfig
    signer: CryptoSigner | None = None
    expected: expectations.Expected | None = None

    def bundle_certification(self) -> bundle.Certification:
        source = Path(self.agent_config.source)
        from_file = source.is_file() and self.agent_config.source not in ("default", "command line")
        return bundle.Certification(self.contract.text, source.read_bytes() if from_file else None, self.signer)


def prepare(*, certify: bool, sign_key: str | None, expected_failures: str | None, contract: Profile,
            agent_config: AgentConfig) -> Inputs:
    """The inputs, checked: a key that does not load or a bad expectations file is refused now (one
    line naming the file), not after a run whose bundle it was meant to sign."""
    if sign_key and not certify:
        raise ConfigError(f"--sign-key {sign_key}: it signs the certification bundle; give --certify DIR too")
    signer = None
    if sign_key:
        from .report import keys

        signer = keys.load_signer(sign_key)
    known = {r.id for r in contract.requirements()}
    expected = expectations.load(expected_failures, known) if expected_failures else None
    return Inputs(certify, contract, agent_config, signer, expected)


def amend(report: dict[str, Any], inputs: Inputs) -> dict[str, Any]:
    """The report with its identity, completeness, attestation and gate sections."""
    report["identity"] = identity.collect(inputs.contract.name, inputs.contract.text, inputs.agent_config.as_dict(),
                                          dict(inputs.agent_config.product))
    completeness.apply(report, inputs.certify)
    if inputs.certify:
        report["attestation"] = _attestation_note(inputs.signer)
    if inputs.expected is not None:
        report["expected_failures"] = expectations.judge(report, inputs.expected)
    return report


def _attestation_note(signer: CryptoSigner | None) -> dict[str, Any]:
    if signer is None:
        return {"signed": False}
    from .report import keys

    public = signer.public_key
    return {"signed": True, "algorithm": public.scheme, "keyid": public.keyid, "public_key": keys.public_pem(signer)}


def exit_status(report: dict[str, Any]) -> int:
    """0 or 1: the verdict's, unless --expected-failures gates (an incomplete certification is
    never excused by it)."""
    if report["verdict"] == completeness.INCOMPLETE:
        return 1
    gate = report.get("expected_failures")
    if gate is not None:
        return 0 if gate["passed"] else 1
    return 0 if report["verdict"] == completeness.PASS else 1
