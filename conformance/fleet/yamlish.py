"""Enough YAML to write Kubernetes manifests without a YAML library at run time: mappings,
sequences, strings, numbers, booleans. Strings are JSON-quoted (a JSON string is a YAML
double-quoted scalar), except multi-line ones, which are literal blocks (`|`) to stay readable."""

from __future__ import annotations

import json
import re
from typing import Any

# Left unquoted: names, paths and versions that YAML cannot read as anything but that string.
_PLAIN = re.compile(r"^[A-Za-z_/][A-Za-z0-9_./-]*$")
_WORDS = {"true", "false", "null", "yes", "no", "on", "off", "y", "n"}


def dump_all(documents: list[Any]) -> str:
    return "".join(f"---\n{dump(document)}" for document in documents)


def dump(value: Any, indent: int = 0) -> str:
    return "\n".join(_lines(value, indent)) + "\n"


def _lines(value: Any, indent: int) -> list[str]:
    pad = " " * indent
    if isinstance(value, dict):
        if not value:
            return [pad + "{}"]
        lines = []
        for key, item in value.items():
            lines += _entry(f"{pad}{_scalar(str(key))}:", item, indent + 2)
        return lines
    if isinstance(value, list):
        if not value:
            return [pad + "[]"]
        lines = []
        for item in value:
            nested = _lines(item, indent + 2)
            if isinstance(item, (dict, list)) and item:
                lines.append(f"{pad}- {nested[0].lstrip()}")  # the first key on the dash's line
                lines += nested[1:]
            else:
                lines += _entry(f"{pad}-", item, indent + 2)
        return lines
    return [pad + _scalar(value)]


def _entry(prefix: str, item: Any, indent: int) -> list[str]:
    if isinstance(item, (dict, list)) and item:
        return [prefix] + _lines(item, indent)
    if isinstance(item, str) and "\n" in item and _block_safe(item):
        pad = " " * indent
        chomp = "" if item.endswith("\n") else "-"  # clip: one final newline; strip: none
        body = item[:-1] if item.endswith("\n") else item
        return [f"{prefix} |{chomp}"] + [(pad + line) if line else "" for line in body.split("\n")]
    return [f"{prefix} {_lines(item, 0)[0]}"]


def _block_safe(text: str) -> bool:
    """A literal block keeps the text exactly unless it has trailing spaces, tabs or a first line
    that starts with a space (the indentation would be misread)."""
    return not text.startswith((" ", "\n")) and not text.endswith("\n\n") and all(line == line.rstrip() for line in text.split("\n")) \
        and "\t" not in text and all(c.isprintable() or c == "\n" for c in text)


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in _WORDS:
        return text
    return json.dumps(text, ensure_ascii=False)
