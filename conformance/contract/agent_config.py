"""The agent config: which endpoints the agent declares (method, path, example JSON body) and the
budgets: how long and how much the suite waits for and reads from the candidate, and what the
candidate's container may use. From a TOML file (`--agent-config`) or the `--endpoint`/`--json` shorthand.

A bad config is refused before any container starts, naming the file, the key and what was expected.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from ..errors import ConfigError

# RFC 9110 token: what an HTTP method may be made of.
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
DEFAULT_BODY = {"message": "hello", "thread_id": "conformance"}
# `[product]`: who hands the image in for certification (recorded in the report, never checked).
PRODUCT_KEYS = ("vendor", "product", "version", "contact")


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    json: Any = None  # the example request body; None: no body

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    def body_bytes(self) -> bytes | None:
        return None if self.json is None else json.dumps(self.json).encode()


# The unit of a budget is read from its name: `_s` seconds, `_mib`/`_kib` sizes, `cpus` (fractions allowed);
# any other name counts things (a whole number).
_UNITS = {"_s": "number of seconds", "_mib": "number of MiB", "_kib": "number of KiB", "cpus": "number of CPUs"}


@dataclass(frozen=True)
class Budgets:
    """Every bound the suite puts on the candidate. Hitting one is a failure of the requirement
    being checked, with the figure and the budget's name ("cap stream_s"), never a hang."""

    startup_s: float = 30.0
    request_s: float = 10.0  # a whole non-streaming answer, head and body
    fuzz_s: float = 20.0  # wall-clock cap of the fuzz campaign, shrinking included
    fuzz_concurrency: int = 4  # generated requests in flight at once (1: one after another)
    first_byte_s: float = 10.0  # from the request sent to the response head (status line and headers)
    stream_s: float = 30.0  # a whole event stream (requests whose Accept includes text/event-stream)
    stream_events: int = 10_000  # events read from one stream
    response_mib: float = 16.0  # body bytes read from one answer, JSON or event stream
    header_kib: float = 64.0  # the response head (the HTTP client refuses more than 100 KiB anyway)
    memory_mib: float = 1024.0  # the container's memory limit (no swap); the OOM killer ends it past this
    pids: int = 512  # the container's limit on processes and threads
    # The container's CPU limit (a CFS quota, as `docker run --cpus`): one busy candidate cannot starve
    # the suite or the runs beside it (`agent-conformance batch`). Two, as AgentCore's session cap.
    cpus: float = 2.0

    def scaled(self, factor: float) -> "Budgets":
        """These budgets with every time budget `factor` times longer (a candidate under emulation)."""
        if factor == 1:
            return self
        # Not the fuzz phase's cap: a wall-clock cap on a campaign, which sends fewer requests instead.
        return replace(self, **{f.name: getattr(self, f.name) * factor for f in fields(self)
                                if f.name.endswith("_s") and f.name != "fuzz_s"})

    @property
    def response_bytes(self) -> int:
        return int(self.response_mib * (1 << 20))

    @property
    def header_bytes(self) -> int:
        return int(self.header_kib * 1024)


def unit(name: str) -> str:
    """What a budget's value means, from its name."""
    return next((u for suffix, u in _UNITS.items() if name.endswith(suffix)), "whole number")


@dataclass(frozen=True)
class AgentConfig:
    endpoints: tuple[Endpoint, ...] = (Endpoint("POST", "/chat", DEFAULT_BODY),)
    budgets: Budgets = field(default_factory=Budgets)
    source: str = "default"  # where it came from, for the report
    profile: str = ""  # the contract profile it names ("" : --profile's, else the default)
    port: int | None = None  # the port the agent serves on, when the config says (checked against the profile)
    endpoints_given: bool = False  # False: the profile's default endpoint stands in
    # The agent's own environment (`[env]`, `--env-file`, `--env`): secrets, shown by name only.
    env: tuple[tuple[str, str], ...] = ()
    product: tuple[tuple[str, str], ...] = ()  # [product]: (key, value) in PRODUCT_KEYS order
    # [[setup]]: requests sent, in order, each time a candidate is ready (also after a restart),
    # before anything else: what a client of the agent's API must do first (create a session).
    setup: tuple[Endpoint, ...] = ()

    @property
    def env_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.env)

    def for_profile(self, method: str, path: str, body: Any) -> "AgentConfig":
        """This config with the profile's default endpoint where it declares none."""
        if self.endpoints_given:
            return self
        return replace(self, endpoints=(Endpoint(method, path, body),))

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "endpoints": [{"method": e.method, "path": e.path, "json": e.json} for e in self.endpoints],
            "budgets": dict(vars(self.budgets)),
            "env": list(self.env_names),  # names only: the values are secrets
        } | ({"product": dict(self.product)} if self.product else {}) | (
            {"setup": [{"method": e.method, "path": e.path, "json": e.json} for e in self.setup]} if self.setup else {})


def _endpoint(where: str, method: Any, path: Any, body: Any) -> Endpoint:
    if not isinstance(method, str) or not _TOKEN.match(method):
        raise ConfigError(f'{where}.method: expected an HTTP method such as "POST", got {method!r}')
    if not isinstance(path, str) or not path.startswith("/") or any(c.isspace() for c in path):
        raise ConfigError(f'{where}.path: expected a path starting with "/" such as "/chat", got {path!r}')
    return Endpoint(method.upper(), path, body)


def _budget(where: str, table: dict[str, Any], key: str, default: float) -> float:
    value = table.get(key, default)
    kind = unit(key)
    allowed = (int,) if kind == "whole number" else (int, float)
    if isinstance(value, bool) or not isinstance(value, allowed) or value <= 0:
        raise ConfigError(f"{where}.{key}: expected a positive {kind}, got {value!r}")
    return value if kind == "whole number" else float(value)


def parse_config(data: dict[str, Any], source: str) -> AgentConfig:
    """Validate a parsed TOML document; every error names `source` and the offending key."""
    unknown = set(data) - {"endpoints", "setup", "budgets", "profile", "port", "env", "product"}
    if unknown:
        raise ConfigError(f"{source}: unknown key {sorted(unknown)[0]!r}; expected [[endpoints]], [[setup]], "
                          "[budgets], [env], [product], profile and port")
    env = _env_table(source, data.get("env", {}))
    profile = data.get("profile", "")
    if not isinstance(profile, str):
        raise ConfigError(f'{source}: profile: expected a profile name such as "cloud-run", got {profile!r}')
    port = data.get("port")
    if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536):
        raise ConfigError(f"{source}: port: expected a TCP port number, got {port!r}")
    raw_endpoints = data.get("endpoints")
    if raw_endpoints is None:
        endpoints = AgentConfig().endpoints
    elif not isinstance(raw_endpoints, list) or not raw_endpoints:
        raise ConfigError(f"{source}: endpoints: expected one or more [[endpoints]] tables")
    else:
        endpoints = _requests(source, "endpoints", raw_endpoints)
    raw_setup = data.get("setup", [])
    if not isinstance(raw_setup, list):
        raise ConfigError(f"{source}: setup: expected [[setup]] tables")
    setup = _requests(source, "setup", raw_setup)
    labels = [e.label for e in endpoints]
    duplicate = next((label for label in labels if labels.count(label) > 1), None)
    if duplicate:
        raise ConfigError(f"{source}: endpoints: {duplicate} is declared twice")
    table = data.get("budgets", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: budgets: expected a [budgets] table")
    known = [f.name for f in fields(Budgets)]
    extra = set(table) - set(known)
    if extra:
        raise ConfigError(f"{source}: budgets: unknown key {sorted(extra)[0]!r}; expected {', '.join(known)}")
    budgets = Budgets(**{key: _budget(f"{source}: budgets", table, key, getattr(Budgets, key)) for key in known})
    return AgentConfig(endpoints, budgets, source, profile, port, raw_endpoints is not None,
                       product=_product(source, data.get("product", {})), env=env, setup=setup)


def _requests(source: str, key: str, tables: list[Any]) -> tuple[Endpoint, ...]:
    """`[[endpoints]]` or `[[setup]]`: tables of method, path and an optional json body."""
    found = []
    for i, table in enumerate(tables):
        where = f"{source}: {key}[{i}]"
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: expected a table with method, path and json")
        extra = set(table) - {"method", "path", "json"}
        if extra:
            raise ConfigError(f"{where}: unknown key {sorted(extra)[0]!r}; expected method, path, json")
        for name in ("method", "path"):
            if name not in table:
                raise ConfigError(f"{where}.{name}: missing")
        found.append(_endpoint(where, table["method"], table["path"], table.get("json")))
    return tuple(found)


def _product(source: str, table: Any) -> tuple[tuple[str, str], ...]:
    """`[product]`: vendor, product, version, contact, each a non-empty string when given."""
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: product: expected a [product] table with {', '.join(PRODUCT_KEYS)}")
    extra = set(table) - set(PRODUCT_KEYS)
    if extra:
        raise ConfigError(f"{source}: product: unknown key {sorted(extra)[0]!r}; expected {', '.join(PRODUCT_KEYS)}")
    for key, value in table.items():
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{source}: product.{key}: expected a non-empty string, got {value!r}")
    return tuple((key, table[key].strip()) for key in PRODUCT_KEYS if key in table)


def _env_table(source: str, table: Any) -> tuple[tuple[str, str], ...]:
    """`[env]`: NAME = "value" for the agent (a model endpoint, a key, a config file's name)."""
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: env: expected an [env] table of NAME = \"value\"")
    for name, value in table.items():
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name):
            raise ConfigError(f"{source}: env: {name!r} is not a variable name (letters, digits and _)")
        if not isinstance(value, str):
            raise ConfigError(f"{source}: env.{name}: expected a string, got {type(value).__name__}")
    return tuple(table.items())


def load_config_file(path: str | Path) -> AgentConfig:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read agent config: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    config = parse_config(data, str(path))
    if config.profile.endswith(".toml") or "/" in config.profile:
        # A profile file the config names is found beside the config, wherever the run starts.
        config = replace(config, profile=str(path.parent / config.profile))
    return config


def config_from_shorthand(endpoints: list[str], bodies: list[str]) -> AgentConfig:
    """`--endpoint "POST /chat"` (repeatable) with `--json '{…}'`: one --json for all endpoints,
    or one per --endpoint in the same order."""
    if not endpoints:
        raise ConfigError("--json needs --endpoint: say which endpoint the body is for")
    if bodies and len(bodies) not in (1, len(endpoints)):
        raise ConfigError(
            f"--json given {len(bodies)} times for {len(endpoints)} --endpoint: give one for all or one each"
        )
    parsed = []
    for i, text in enumerate(bodies):
        try:
            parsed.append(json.loads(text))
        except json.JSONDecodeError as exc:
            raise ConfigError(f"--json #{i + 1}: not valid JSON ({exc.msg} at char {exc.pos}): {text[:80]!r}") from None
    result = []
    for i, spec in enumerate(endpoints):
        method, _, path = spec.strip().partition(" ")
        body = parsed[i] if len(parsed) == len(endpoints) else (parsed[0] if parsed else None)
        result.append(_endpoint(f"--endpoint {spec!r}", method, path.strip(), body))
    return parse_config({"endpoints": [e.__dict__ for e in result]}, "command line")


def resolve_config(config_file: str | None, endpoints: list[str], bodies: list[str]) -> AgentConfig:
    if config_file and (endpoints or bodies):
        raise ConfigError("use either --agent-config or --endpoint/--json, not both")
    if config_file:
        return load_config_file(config_file)
    if endpoints or bodies:
        return config_from_shorthand(endpoints, bodies)
    return AgentConfig()
