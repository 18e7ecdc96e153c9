"""The certification's lines in every report form (terminal, Markdown, HTML): who ran what
(identity), whether the attestation is signed, and the expected-failures gate."""

from __future__ import annotations

from typing import Any

from .expectations import gate_lines
from .identity import identity_lines


def attestation_line(report: dict[str, Any]) -> str:
    """"" outside --certify."""
    note = report.get("attestation")
    if not note:
        return ""
    if note.get("signed"):
        return f"Attestation: signed ({note['algorithm']}, key ID {note['keyid'][:16]}…)."
    return ("Attestation: UNSIGNED (no --sign-key): anyone can edit this bundle and its SHA256SUMS; "
            "a platform cannot tell it from the original.")


def summary_lines(report: dict[str, Any]) -> list[str]:
    line = attestation_line(report)
    return [*identity_lines(report), *([line] if line else []), *gate_lines(report)]
