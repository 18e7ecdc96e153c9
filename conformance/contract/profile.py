"""Contract profiles: one hosted-agent platform's runtime contract as data (`profiles/NAME.toml`).

A profile says what the platform does to a container and asks of it: the image platform, the port
(fixed, or given in $PORT), the probes and the answer each must give, the default endpoint and its
example body, the variables it injects and reserves, the filesystem model, the SIGTERM grace, the
headers it sends with each call, and which requirement IDs apply, each with the
sentence of the platform's page it comes from. The checks read the run's profile (through
`platform.Platform`); no platform's constants stay in check code. `oci-hosted` is the default.

A profile file that does not validate is refused before any container starts, naming the file,
the key and what was expected.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .catalogue import BY_ID, CATALOGUE, EVERY_REQUIREMENT, Level, Requirement

DEFAULT = "oci-hosted"
_FILESYSTEMS = ("read-only-root", "writable-memory")
_NEGOTIATIONS = ("accept", "agent")


@dataclass(frozen=True)
class Probe:
    """A probe the platform sends, and the answer it needs."""

    path: str
    kind: str = "http"  # "tcp": the platform only waits for the port to accept (then: any HTTP answer to `path`)
    status: int = 200
    media_type: str = "application/json"  # "" when the platform does not look at it
    json_field: str = ""  # a field the JSON body must have ("status" for AgentCore's /ping) …
    json_values: tuple[str, ...] = ()  # … with one of these values


@dataclass(frozen=True)
class Rule:
    """How a requirement reads in this profile: the platform's own words, and where they are."""

    source: str = ""  # a sentence of the platform's page; "" : the catalogue's (the OCI page's)
    url: str = ""
    title: str = ""  # "" : the catalogue's
    fix: str = ""  # "" : the catalogue's
    level: str = ""  # "" : the catalogue's; MUST or SHOULD as this platform words it


@dataclass(frozen=True)
class Profile:
    name: str
    title: str
    version: str  # the date the contract was read
    url: str
    os: str
    architecture: str
    port: int
    port_from_env: bool  # the platform sets $PORT and the server must listen where it says
    ready: Probe
    health: Probe | None  # None: one probe path serves both
    endpoint_method: str
    endpoint_path: str
    endpoint_json: Any
    # How the answer's form is chosen: "accept" (the platform asks for a stream with Accept:
    # text/event-stream, and NEGOTIATE-* judge it) or "agent" (the agent chooses JSON or SSE, e.g.
    # by its own body fields: a stream it serves is judged all the same).
    negotiation: str
    injected_env: dict[str, str]  # what candidates are started with (dummy values)
    reserved_prefixes: tuple[str, ...]
    read_only_root: bool
    writable_paths: tuple[str, ...]
    grace_s: float
    session_headers: dict[str, str] = field(default_factory=dict)
    # Variables the platform sets that switch the agent into a mode only the platform's backing
    # services can answer (Foundry's hosted storage behind a managed identity): reserved, never
    # injected with a dummy; name → why (the report says so).
    withheld_env: dict[str, str] = field(default_factory=dict)
    rules: dict[str, Rule] = field(default_factory=dict)  # ID → how it reads here; only these apply
    text: str = field(default="", repr=False, compare=False)  # the file as read: its digest names the contract

    @property
    def platform(self) -> str:
        return f"{self.os}/{self.architecture}"

    @property
    def http_probes(self) -> bool:
        """The platform asks HTTP probes of its own paths (not a TCP check of the port)."""
        return self.ready.kind == "http"

    @property
    def probe_paths(self) -> tuple[str, ...]:
        return (self.ready.path,) + ((self.health.path,) if self.health and self.health.path != self.ready.path else ())

    @property
    def liveness(self) -> Probe:
        return self.health or self.ready

    def reserved_names(self) -> tuple[str, ...]:
        return tuple(n for n in (*self.injected_env, *self.withheld_env) if not n.startswith(self.reserved_prefixes))

    def is_reserved(self, name: str) -> bool:
        return name in self.reserved_names() or name.startswith(self.reserved_prefixes)

    def label(self) -> str:
        return f"{self.name} ({self.title}, read {self.version})"

    def requirements(self) -> tuple[Requirement, ...]:
        """The catalogue's requirements that apply here, in catalogue order, each in this
        platform's words where it has its own (title, source sentence, fix, level)."""
        values = {"platform": self.platform, "port": str(self.port), "ready": self.ready.path,
                  "health": self.liveness.path, "grace": f"{self.grace_s:g}"}
        chosen = []
        for requirement in EVERY_REQUIREMENT:
            rule = self.rules.get(requirement.id)
            if rule is not None:
                chosen.append(replace(requirement, title=rule.title or requirement.title,
                                      source=rule.source or requirement.source, fix=rule.fix or requirement.fix,
                                      level=Level(rule.level) if rule.level else requirement.level).worded(values))
        return tuple(chosen)


def names() -> list[str]:
    """The profiles the package carries."""
    folder = resources.files(__package__) / "profiles"
    return sorted(p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml"))


def load(name: str) -> Profile:
    """The profile called `name`, or the profile file at that path."""
    if name.endswith(".toml") or "/" in name:
        path = Path(name)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"profile {name}: cannot be read ({exc.strerror or exc})") from None
        return parse(text, str(path))
    known = names()
    if name not in known:
        raise ConfigError(f"unknown profile {name!r}: the known profiles are {', '.join(known)} "
                          "(or give the path of a profile file)")
    return parse((resources.files(__package__) / "profiles" / f"{name}.toml").read_text(encoding="utf-8"),
                 f"profiles/{name}.toml")


def parse(text: str, where: str) -> Profile:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"profile {where}: not valid TOML ({exc})") from None
    read = _Reader(where, data)
    rules = _rules(where, read)
    probes = read.table("probes")
    filesystem = read.text("filesystem.model")
    if filesystem not in _FILESYSTEMS:
        raise ConfigError(f"profile {where}: filesystem.model must be one of {', '.join(_FILESYSTEMS)}, "
                          f"not {filesystem!r}")
    os_, _, arch = read.text("image.platform").partition("/")
    return Profile(
        name=read.text("profile.name"), title=read.text("profile.title"), version=read.text("profile.version"),
        url=read.text("profile.url"), os=os_, architecture=arch,
        port=read.integer("server.port"), port_from_env=read.boolean("server.port_from_env"),
        ready=_probe(where, probes, "ready"), health=_probe(where, probes, "health") if "health" in probes else None,
        endpoint_method=read.text("endpoint.method"), endpoint_path=read.text("endpoint.path"),
        endpoint_json=read.value("endpoint.json"),
        negotiation=_negotiation(where, read),
        injected_env={k: str(v) for k, v in read.table("env.injected").items()},
        reserved_prefixes=tuple(read.strings("env.reserved_prefixes")),
        read_only_root=filesystem == "read-only-root", writable_paths=tuple(read.strings("filesystem.writable")),
        grace_s=float(read.number("lifecycle.sigterm_grace_s")),
        session_headers={k: str(v) for k, v in read.table("session.headers", {}).items()},
        withheld_env={k: str(v) for k, v in read.table("env.withheld", {}).items()},
        rules=rules, text=text,
    )


def _rules(where: str, read: "_Reader") -> dict[str, Rule]:
    """ID → how it reads here. `[profile] requirements = "catalogue"`: every requirement of the
    catalogue (the OCI contract's) applies, so a requirement added there is checked here at once;
    `[requirements.ID]` tables add rules or word them in this platform's terms."""
    base = read.text("profile.requirements", "")
    if base not in ("", "catalogue"):
        raise ConfigError(f'profile {where}: profile.requirements must be "catalogue" (or absent), not {base!r}')
    rules = {r.id: Rule() for r in CATALOGUE} if base else {}
    for rid, rule in read.table("requirements", {} if base else _MISSING).items():
        if rid not in BY_ID:
            raise ConfigError(f"profile {where}: [requirements] names {rid!r}, which is no requirement ID")
        r = _Reader(f"{where} [requirements.{rid}]", rule if isinstance(rule, dict) else {})
        level = r.text("level", "")
        if level not in ("", "MUST", "SHOULD"):
            raise ConfigError(f"profile {where}: [requirements.{rid}] level must be MUST or SHOULD, not {level!r}")
        rules[rid] = Rule(r.text("source", ""), r.text("url", ""), r.text("title", ""), r.text("fix", ""), level)
    return rules


def _negotiation(where: str, read: "_Reader") -> str:
    value = read.text("endpoint.negotiation", "accept")
    if value not in _NEGOTIATIONS:
        raise ConfigError(f"profile {where}: endpoint.negotiation must be one of {', '.join(_NEGOTIATIONS)}, "
                          f"not {value!r}")
    return value


def _probe(where: str, probes: dict, role: str) -> Probe:
    r = _Reader(f"{where} [probes.{role}]", probes.get(role) or {})
    kind = r.text("kind", "http")
    if kind not in ("http", "tcp"):
        raise ConfigError(f"profile {where}: [probes.{role}] kind must be http or tcp, not {kind!r}")
    path = r.text("path")
    if not path.startswith("/"):
        raise ConfigError(f'profile {where}: [probes.{role}] path must start with "/", not {path!r}')
    return Probe(path, kind, r.integer("status", 200), r.text("media_type", "application/json"),
                 r.text("json_field", ""), tuple(r.strings("json_values", [])))


_MISSING = object()


class _Reader:
    """Typed reads of dotted keys, each failure one line naming the file and the key."""

    def __init__(self, where: str, data: dict):
        self.where, self.data = where, data

    def value(self, key: str, default: Any = _MISSING) -> Any:
        node: Any = self.data
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                if default is _MISSING:
                    raise ConfigError(f"profile {self.where}: {key} is missing")
                return default
            node = node[part]
        return node

    def _typed(self, key: str, kind, what: str, default: Any) -> Any:
        value = self.value(key, default)
        if value is not default and (not isinstance(value, kind) or isinstance(value, bool) and kind is not bool):
            raise ConfigError(f"profile {self.where}: {key} must be {what}, not {value!r}")
        return value

    def text(self, key: str, default: Any = _MISSING) -> str:
        return self._typed(key, str, "a string", default)

    def integer(self, key: str, default: Any = _MISSING) -> int:
        return self._typed(key, int, "a whole number", default)

    def number(self, key: str, default: Any = _MISSING) -> float:
        return self._typed(key, (int, float), "a number", default)

    def boolean(self, key: str, default: Any = _MISSING) -> bool:
        return self._typed(key, bool, "true or false", default)

    def table(self, key: str, default: Any = _MISSING) -> dict:
        return self._typed(key, dict, "a table", default)

    def strings(self, key: str, default: Any = _MISSING) -> list[str]:
        value = self._typed(key, list, "a list of strings", default)
        if any(not isinstance(v, str) for v in value):
            raise ConfigError(f"profile {self.where}: {key} must be a list of strings")
        return value
