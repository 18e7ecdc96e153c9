"""The list of images a batch runs: one reference a line, or a TOML list with a per-image agent
config and profile. Each image gets a folder of its own under the batch's output, named from its
reference alone (so that a later batch finds it again, whatever else the list holds).

    # images.txt: blank lines and comments ignored
    vendor-a/agent:1.4
    registry.example.com/vendor-b/agent@sha256:…

    # images.toml: paths relative to this file
    [[image]]
    ref = "vendor-a/agent:1.4"
    agent_config = "vendor-a.toml"
    profile = "cloud-run"
    vuln_report = "scans/vendor-a-1.4.json"   # Trivy or Grype JSON of this image (a certification needs one)
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError

MAX_LIST_BYTES = 1 << 20  # a list is a few KiB; a megabyte is some other file given by mistake
# What an image reference may contain (name, tag, digest): anything else is not one.
_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/:@+-]*$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
KEYS = ("ref", "agent_config", "profile", "vuln_report")


@dataclass(frozen=True)
class Entry:
    ref: str
    agent_config: Path | None = None  # absolute
    profile: str | None = None
    vuln_report: Path | None = None  # absolute

    @property
    def folder(self) -> str:
        return folder_name(self.ref)


def folder_name(ref: str) -> str:
    """The image's folder: its reference with every character a path or a CI artifact name may not
    hold replaced by `_` (`vendor/agent:1.4` → `vendor_agent_1.4`). A reference starts with a
    letter or digit, so no image's folder starts with `_`: the batch's own files live in `_batch`."""
    return _UNSAFE.sub("_", ref)


def read_list(text: str, source: str, base: Path) -> list[Entry]:
    """The entries of a list file's text; `base`: where its relative paths start."""
    lines = [line.strip() for line in text.splitlines()]
    meaningful = [line for line in lines if line and not line.startswith("#")]
    if any(line.startswith("[") for line in meaningful):
        entries = _from_toml(text, source, base)
    else:
        entries = [_entry(source, f"line {lines.index(line) + 1}", line, None, None, base) for line in meaningful]
    if not entries:
        raise ConfigError(f"{source}: no image listed; give one reference a line, or [[image]] tables with ref")
    _refuse_clashes(entries, source)
    return entries


def load(path: str, stdin_text: str | None = None) -> list[Entry]:
    """The list at `path` (`-`: `stdin_text`)."""
    if path == "-":
        return read_list(stdin_text or "", "stdin", Path.cwd())
    file = Path(path)
    try:
        with file.open("rb") as handle:
            data = handle.read(MAX_LIST_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the list of images: {exc.strerror or exc}") from None
    if len(data) > MAX_LIST_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_LIST_BYTES >> 20} MiB: not a list of images")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text: not a list of images") from None
    return read_list(text, path, file.resolve().parent)


def _from_toml(text: str, source: str, base: Path) -> list[Entry]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    unknown = sorted(set(data) - {"image"})
    if unknown:
        raise ConfigError(f"{source}: unknown key {unknown[0]!r}; expected [[image]] tables")
    tables = data.get("image")
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise ConfigError(f"{source}: image: expected [[image]] tables with ref, agent_config and profile")
    entries = []
    for i, table in enumerate(tables):
        where = f"image[{i}]"
        extra = sorted(set(table) - set(KEYS))
        if extra:
            raise ConfigError(f"{source}: {where}: unknown key {extra[0]!r}; expected {', '.join(KEYS)}")
        for key in KEYS:
            if key in table and not isinstance(table[key], str):
                raise ConfigError(f"{source}: {where}.{key}: expected a string, got {table[key]!r}")
        if "ref" not in table:
            raise ConfigError(f"{source}: {where}.ref: missing (the image reference)")
        entries.append(_entry(source, where, table["ref"], table.get("agent_config"), table.get("profile"), base,
                              table.get("vuln_report")))
    return entries


def _entry(source: str, where: str, ref: str, agent_config: str | None, profile: str | None, base: Path,
           vuln_report: str | None = None) -> Entry:
    if not _REF.match(ref):
        raise ConfigError(f"{source}: {where}: {ref!r} is not an image reference")
    files = {}
    for key, given in (("agent_config", agent_config), ("vuln_report", vuln_report)):
        if given:
            files[key] = (base / given).resolve()
            if not files[key].is_file():
                raise ConfigError(f"{source}: {where}.{key}: {files[key]} is not a file")
    return Entry(ref, files.get("agent_config"), profile or None, files.get("vuln_report"))


def _refuse_clashes(entries: list[Entry], source: str) -> None:
    seen: dict[str, str] = {}
    for entry in entries:
        if entry.folder in seen:
            other = seen[entry.folder]
            if other == entry.ref:
                raise ConfigError(f"{source}: {entry.ref} is listed twice")
            raise ConfigError(f"{source}: {other} and {entry.ref} would share the bundle folder {entry.folder}; "
                              "list one of them by another reference (a tag or digest)")
        seen[entry.folder] = entry.ref
