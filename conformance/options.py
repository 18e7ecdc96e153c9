"""The run's options, defined once: the pytest plugin adds them with their defaults, the
`agent-conformance` command parses the same ones and passes those given on to pytest.

Light on imports on purpose: the command loads this before pytest starts, and a module that
imported httpx or Hypothesis here would keep pytest from rewriting their assertions (it warns)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any, Callable

DEFAULT_FUZZ_EXAMPLES = 500  # about 1.5 s on the reference agent; the wall-clock cap is [budgets] fuzz_s
DEFAULT_SCAN_TIMEOUT_S = 600.0


def cpus(text: str) -> float:
    """A CPU limit as `docker run --cpus` takes it: a positive number, fractions allowed."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of CPUs such as 1 or 0.5, got {text!r}")
    return value


@dataclass(frozen=True)
class Option:
    flag: str
    help: str
    metavar: str | None = None
    type: Callable | None = None
    action: str | None = None  # "append" or "store_true"
    default: Any = None  # the plugin's; the command leaves an option it was not given to the plugin

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")

    def kwargs(self, plugin: bool) -> dict[str, Any]:
        """addoption/add_argument keywords; the command's default means "not given"."""
        if self.action == "store_true":
            return {"action": "store_true", "default": False, "help": self.help}
        if self.action == "append":
            return {"action": "append", "default": [], "metavar": self.metavar, "help": self.help}
        kwargs = {"metavar": self.metavar, "help": self.help, "default": self.default if plugin else None}
        return kwargs | ({"type": self.type} if self.type else {})


OPTIONS = (
    Option("--agent-config", "agent config (TOML): [[endpoints]] and [budgets]", "FILE"),
    Option("--endpoint", 'a declared endpoint, e.g. "POST /chat" (repeatable; default: POST /chat)',
           '"METHOD /path"', action="append"),
    Option("--json", "example JSON body for --endpoint (once for all, or once per --endpoint)", "BODY",
           action="append"),
    Option("--env", "a variable for the agent: NAME=VALUE, or NAME for this machine's value (repeatable); "
           "values are secrets, never shown in a report", "NAME[=VALUE]", action="append"),
    Option("--env-file", "variables for the agent from a file of NAME=VALUE lines (as docker run --env-file)",
           "FILE"),
    Option("--profile", "the contract to check against: oci-hosted (default), aws-agentcore, cloud-run, "
           "azure-foundry, knative, or a profile file", "NAME"),
    Option("--report-json", "write the certification report as JSON", "FILE"),
    Option("--report-md", "write the certification report as Markdown", "FILE"),
    Option("--report-html", "write the report as one self-contained HTML page with plots of the run's "
           "measurements", "FILE"),
    Option("--vuln-report", "Trivy or Grype JSON report of the image, for NO-CRITICAL-VULNS (default: run trivy "
           "or grype if on PATH, else skip)", "FILE"),
    Option("--scan-timeout", f"time allowed to a scanner found on PATH (default {DEFAULT_SCAN_TIMEOUT_S:g})",
           "SECONDS", float, default=DEFAULT_SCAN_TIMEOUT_S),
    Option("--certify", "write a certification bundle into DIR: reports, junit.xml, image and config, "
           "candidates' logs, SHA256SUMS", "DIR"),
    Option("--sign-key", "sign the certification bundle's attestation with this private key (PEM: Ed25519 or "
           "ECDSA P-256, as openssl or cosign write it; needs --certify)", "FILE"),
    Option("--expected-failures", "requirement IDs (one a line) known to fail: they do not fail the run, an "
           "unlisted failure does, and so does a listed ID that now passes (stale)", "FILE"),
    Option("--fuzz-examples", f"generated requests for ROBUST-INPUT (default {DEFAULT_FUZZ_EXAMPLES}; 0 skips "
           "fuzzing)", "N", int, default=DEFAULT_FUZZ_EXAMPLES),
    Option("--fuzz-seed", "seed the fuzzer for a reproducible run (default: random; derandomised when CI is set)",
           "S", int),
    Option("--cpus", "each candidate container's CPU limit, as `docker run --cpus` (default: the agent config's "
           "[budgets] cpus, else 2)", "N", cpus),
    Option("--no-egress", "run the candidates on an internal network: no outbound connections (default: "
           "outbound network allowed, as on the platform)", action="store_true"),
)


def add_all(add: Callable[..., Any], plugin: bool) -> None:
    """Add every option with `add` (pytest's `group.addoption` or argparse's `add_argument`)."""
    for option in OPTIONS:
        add(option.flag, **option.kwargs(plugin))


def forwarded(args: argparse.Namespace) -> list[str]:
    """The options the command was given, as pytest arguments."""
    argv: list[str] = []
    for option in OPTIONS:
        value = getattr(args, option.dest)
        if option.action == "store_true":
            argv += [option.flag] if value else []
        elif option.action == "append":
            argv += [f"{option.flag}={item}" for item in value]
        elif value is not None:
            argv.append(f"{option.flag}={value}")
    return argv
