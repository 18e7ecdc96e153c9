"""The run's state from its options, made in `pytest_configure`: the agent config, the contract
profile, the scanner report, the report paths. Whatever is refused is refused here, in one line,
before any container starts (and the refusal is written to the reports asked for)."""

from __future__ import annotations

import os
import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from .. import certification
from ..candidate import labels, sandbox
from ..candidate.logs import LogKeeper
from ..contract import profile, secrets
from ..contract.agent_config import AgentConfig, resolve_config
from ..errors import BundleError, ConfigError, VulnReportError
from ..image import vulns
from ..report import bundle
from ..run_state import RunState
from . import reports

# A certification is reproducible: without --fuzz-seed, the fuzzer gets this one (and says so).
CERTIFY_FUZZ_SEED = 0


class Refused(Exception):
    """The run cannot start; the message is the one line a user reads (already in the reports)."""


def is_controller(config: pytest.Config) -> bool:
    return not hasattr(config, "workerinput")


def new_state(config: pytest.Config, image_ref: str) -> RunState:
    """The run's state, or Refused. On the controller the certification bundle's folder is
    prepared too; every process keeps its candidates' logs there."""
    unwritable = unwritable_report_path(config)
    if unwritable:
        raise Refused(unwritable)  # before any container starts, not after the run
    agent_config = _refused_unless(config, image_ref, "agent config refused", lambda: resolve_config(
        config.getoption("agent_config"), config.getoption("endpoint"), config.getoption("json")))
    contract = _refused_unless(config, image_ref, "profile refused",
                               lambda: profile_of(config.getoption("profile"), agent_config))
    agent_config = agent_config.for_profile(contract.endpoint_method, contract.endpoint_path, contract.endpoint_json)
    if config.getoption("cpus", None):  # the command line's CPU limit overrides the config's (batch sets it)
        agent_config = replace(agent_config, budgets=replace(agent_config.budgets, cpus=config.getoption("cpus")))
    agent_config = _refused_unless(config, image_ref, "agent environment refused",
                                   lambda: with_environment(agent_config, config, contract), contract)
    vuln_path = config.getoption("vuln_report")
    # A report the suite cannot read decides nothing: refused before any container starts.
    vuln_raw, vuln_report = _refused_unless(config, image_ref, "vulnerability report refused", lambda: (
        vulns.read_report(Path(vuln_path)) if vuln_path else (None, None)), contract)
    # A key that does not load, a bad expectations file: refused now, not after the run.
    config.stash[reports.CERTIFICATION] = _refused_unless(config, image_ref, "option refused", lambda: certification.prepare(
        certify=bool(config.getoption("certify")), sign_key=config.getoption("sign_key"),
        expected_failures=config.getoption("expected_failures"), contract=contract, agent_config=agent_config),
        contract)
    keep_hypothesis_out_of_the_working_directory()
    workerinput = getattr(config, "workerinput", {})
    state = RunState(image_ref=image_ref, config=agent_config, profile=contract,
                     run_id=workerinput.get("conformance_run_id", uuid.uuid4().hex),
                     owner=workerinput.get("conformance_owner", labels.owner_id()))
    state.vuln_report, state.vuln_report_raw = vuln_report, vuln_raw
    if config.getoption("no_egress"):
        state.internal_network = sandbox.no_egress_network(state.run_id)  # made by the controller
    if config.getoption("certify"):
        _configure_bundle(config, state)  # a run refused before this point writes no bundle
    return state


def _refused_unless(config: pytest.Config, image_ref: str, what: str, make, contract=None):
    """`make()`, or Refused with the reports of a run that could not start written (listing
    `contract`'s requirements, the default profile's when it is not known yet)."""
    try:
        return make()
    except (ConfigError, VulnReportError) as exc:
        message = f"{what}: {exc}"
        reports.write_refusal(config, image_ref, message, contract)
        raise Refused(message) from None


def with_environment(agent_config: AgentConfig, config: pytest.Config, contract: profile.Profile) -> AgentConfig:
    """The agent config with the agent's own environment: its `[env]`, then `--env-file`, then
    `--env` (a later value of a name wins). A name the platform reserves is refused: the platform
    sets it, and a candidate given another value would not be started as the platform starts it."""
    env_file = config.getoption("env_file", None)
    env = secrets.merged(agent_config.env, secrets.parse_env_file(env_file) if env_file else (),
                         secrets.parse_env_options(config.getoption("env", None) or (), os.environ))
    reserved = [name for name, _ in env if contract.is_reserved(name)]
    if reserved:
        raise ConfigError(f"{reserved[0]} is reserved by the {contract.name} platform, which sets it itself: give the "
                          "agent its setting under another name")
    return replace(agent_config, env=env)


def profile_of(option: str | None, agent_config: AgentConfig) -> profile.Profile:
    """The contract profile the run checks against: `--profile`, else the agent config's, else the
    default; refused when the two name different ones or the agent's port is not the platform's."""
    if option and agent_config.profile and option != agent_config.profile:
        raise ConfigError(f"--profile {option} but the agent config ({agent_config.source}) names profile "
                          f"{agent_config.profile}: give one")
    contract = profile.load(option or agent_config.profile or profile.DEFAULT)
    if agent_config.port is not None and agent_config.port != contract.port and not contract.port_from_env:
        raise ConfigError(f"the agent config ({agent_config.source}) says port {agent_config.port}, and the "
                          f"{contract.name} profile's platform sends traffic to port {contract.port}: serve on "
                          f"{contract.port}, or choose the profile of the platform you deploy to")
    return contract


def unwritable_report_path(config: pytest.Config) -> str | None:
    """Why a report file cannot be written where asked (one line), or None: tried now, before any
    container starts, rather than found out after the run. A missing folder is made."""
    for name in reports.REPORT_OPTIONS:
        value = config.getoption(name, None)
        if not value:
            continue
        flag, path = f"--{name.replace('_', '-')}", Path(value)
        if path.is_dir():
            return f"{flag} {value}: is a folder; give a file name"
        existed = path.exists()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "a", encoding="utf-8"):
                pass
        except OSError as exc:
            return f"{flag} {value}: cannot be written ({exc.strerror or exc}); give a path in a folder you can write to"
        if not existed:
            path.unlink()
    return None


def keep_hypothesis_out_of_the_working_directory() -> None:
    """Hypothesis keeps its files (a Unicode table it takes ~200 MiB and seconds to build, constants
    of the source) in `.hypothesis/` of the working directory: a run from a fresh directory would
    rebuild them each time and leave them behind. A cache of the user's is used instead, unless
    HYPOTHESIS_STORAGE_DIRECTORY says where."""
    if os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
        return
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "agent-conformance" / "hypothesis"
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError:
        return  # not writable: Hypothesis's default, the working directory
    # Hypothesis's own variable, not `set_hypothesis_home_dir`: Hypothesis is not imported for it
    # (it is imported while the candidates boot), and the pregenerating child inherits it.
    os.environ["HYPOTHESIS_STORAGE_DIRECTORY"] = str(cache)


def _configure_bundle(config: pytest.Config, state: RunState) -> None:
    """The controller empties DIR first (refusing a directory that holds anything else); every
    process keeps its candidates' logs in DIR/logs; the fuzzer gets the fixed seed in every process
    (workers parse the same arguments)."""
    directory = Path(config.getoption("certify"))
    if is_controller(config):
        try:
            bundle.prepare(directory)
        except BundleError as exc:
            reports.write_refusal(config, state.image_ref, str(exc), state.profile)
            raise Refused(str(exc)) from None
    state.bundle = directory
    state.before_remove = LogKeeper(directory / bundle.LOGS, getattr(config, "workerinput", {}).get("workerid"))
    if config.getoption("fuzz_seed", None) is None and hasattr(config.option, "fuzz_seed"):
        config.option.fuzz_seed = CERTIFY_FUZZ_SEED
