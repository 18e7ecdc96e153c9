"""The agent's own environment: `[env]`, `--env-file`, `--env NAME[=VALUE]`, merged in that order,
and its values kept out of everything the run writes."""

from __future__ import annotations

import pytest

from conformance.contract import profile, secrets
from conformance.contract.agent_config import parse_config
from conformance.errors import ConfigError


def test_env_file_reads_as_docker_does(tmp_path):
    path = tmp_path / "agent.env"
    path.write_text("# model settings\n\nOPENAI_API_KEY=sk-abc=def\nOPENAI_MODEL= gpt-4o-mini\n")
    assert secrets.parse_env_file(path) == [("OPENAI_API_KEY", "sk-abc=def"), ("OPENAI_MODEL", " gpt-4o-mini")]
    path.write_text("export KEY=1\n")
    with pytest.raises(ConfigError, match=r"agent.env:1: expected NAME=VALUE"):
        secrets.parse_env_file(path)
    with pytest.raises(ConfigError, match="cannot be read"):
        secrets.parse_env_file(tmp_path / "missing.env")


def test_env_options_take_a_value_or_this_machines():
    assert secrets.parse_env_options(["A=1", "B"], {"B": "from-host"}) == [("A", "1"), ("B", "from-host")]
    with pytest.raises(ConfigError, match="--env C: not set here"):
        secrets.parse_env_options(["C"], {})
    with pytest.raises(ConfigError, match="not a variable name"):
        secrets.parse_env_options(["1X=2"], {})


def test_later_sources_win():
    assert secrets.merged([("A", "config"), ("B", "config")], [("A", "file")], [("B", "option")]) == (
        ("A", "file"), ("B", "option"))


def test_env_table_in_the_agent_config():
    config = parse_config({"env": {"OPENAI_MODEL": "gpt-4o-mini"}}, "agent.toml")
    assert config.env == (("OPENAI_MODEL", "gpt-4o-mini"),) and config.env_names == ("OPENAI_MODEL",)
    assert config.as_dict()["env"] == ["OPENAI_MODEL"]  # names only, in the bundle's certification.json
    with pytest.raises(ConfigError, match=r"env.KEY: expected a string"):
        parse_config({"env": {"KEY": 1}}, "agent.toml")


def test_values_are_redacted_longest_first_and_short_ones_left():
    redact = secrets.Redactor([("KEY", "sk-canary-12345"), ("PART", "canary"), ("FLAG", "1")])
    assert redact.text("auth sk-canary-12345 then canary, 1 and 1") == \
        "auth [KEY redacted] then [PART redacted], 1 and 1"
    assert redact.lines(["x sk-canary-12345"]) == ["x [KEY redacted]"]
    assert not secrets.Redactor() and not secrets.Redactor([("FLAG", "1")])


def test_a_reserved_name_is_refused_naming_the_platform(pytestconfig):
    from conformance.session.setup import with_environment

    class Options:
        def getoption(self, name, default=None):
            return {"env": ["K_SERVICE=mine"], "env_file": None}.get(name, default)

    config = parse_config({}, "agent.toml")
    with pytest.raises(ConfigError, match="K_SERVICE is reserved by the oci-hosted platform"):
        with_environment(config, Options(), profile.load("oci-hosted"))
    foundry = profile.load("azure-foundry")  # withheld, and reserved all the same
    assert foundry.is_reserved("FOUNDRY_HOSTING_ENVIRONMENT") and "FOUNDRY_HOSTING_ENVIRONMENT" not in foundry.injected_env
