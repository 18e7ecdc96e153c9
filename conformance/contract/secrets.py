"""The agent's own environment (`--env`, `--env-file`, `[env]` in the agent config) and keeping
its values secret: a model key or an endpoint given to the agent never appears in a report, its
evidence, the JUnit file, a reproduction or a saved log. Pure: text in, text out."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from ..errors import ConfigError

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# A value this short is no secret worth the name, and hiding it would blank out common words.
MIN_REDACTED = 4


def parse_env_file(path: str | Path) -> list[tuple[str, str]]:
    """`NAME=VALUE` lines as `docker run --env-file` reads them: blank lines and `#` comments
    skipped, the value taken as written (no quotes removed, no expansion)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"--env-file {path}: cannot be read ({exc.strerror or exc})") from None
    pairs = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, equals, value = line.partition("=")
        name = name.strip()
        if not equals or not NAME.match(name):
            raise ConfigError(f"--env-file {path}:{number}: expected NAME=VALUE, got {line[:60]!r}")
        pairs.append((name, value))
    return pairs


def parse_env_options(given: Iterable[str], environ: Mapping[str, str]) -> list[tuple[str, str]]:
    """`--env NAME=VALUE`, or `--env NAME` for this machine's value of NAME (refused when unset)."""
    pairs = []
    for item in given:
        name, equals, value = item.partition("=")
        if not NAME.match(name):
            raise ConfigError(f"--env {name[:60]!r}: not a variable name (letters, digits and _)")
        if not equals:
            if name not in environ:
                raise ConfigError(f"--env {name}: not set here; give --env {name}=VALUE or set it first")
            value = environ[name]
        pairs.append((name, value))
    return pairs


def merged(*sources: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """The sources in order, a later value of a name replacing an earlier one."""
    out: dict[str, str] = {}
    for source in sources:
        out.update(source)
    return tuple(out.items())


class Redactor:
    """Replaces each secret value in text with `[NAME redacted]`; longest values first, so a value
    that contains another is hidden whole."""

    def __init__(self, env: Iterable[tuple[str, str]] = ()):
        self._values = sorted(((value, name) for name, value in env if len(value) >= MIN_REDACTED),
                              key=lambda pair: -len(pair[0]))

    def __bool__(self) -> bool:
        return bool(self._values)

    def text(self, text: str) -> str:
        for value, name in self._values:
            if value in text:
                text = text.replace(value, f"[{name} redacted]")
        return text

    def lines(self, lines: Iterable[str]) -> list[str]:
        return [self.text(line) for line in lines]
