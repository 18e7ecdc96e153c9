"""The command and the plugin share one option table: every option the command takes reaches
pytest as given, and the plugin knows every one of them with its default."""

from __future__ import annotations

import argparse

import pytest

from conformance import cli, options


def forwarded(*argv: str) -> list[str]:
    args = cli._parser().parse_args(["img:v1", *argv])
    return cli.pytest_args(args, [])


def test_options_not_given_are_left_to_the_plugin():
    argv = forwarded()
    assert not [a for a in argv if any(a.startswith(o.flag) for o in options.OPTIONS)], argv


def test_every_option_given_reaches_pytest_as_given():
    argv = forwarded("--agent-config", "a.toml", "--endpoint", "POST /a", "--endpoint", "GET /b", "--json", "{}",
                     "--report-json", "r.json", "--report-md", "r.md", "--report-html", "r.html",
                     "--vuln-report", "v.json", "--scan-timeout", "5", "--certify", "out", "--fuzz-examples", "0", "--fuzz-seed", "7",
                     "--no-egress", "--profile", "cloud-run", "--env", "A=1", "--env", "HOME", "--env-file", "e.env",
                     "--sign-key", "k.pem", "--expected-failures", "x.txt", "--cpus", "0.5")
    for expected in ("--sign-key=k.pem", "--expected-failures=x.txt", "--profile=cloud-run", "--agent-config=a.toml",
                     "--endpoint=POST /a", "--endpoint=GET /b", "--json={}",
                     "--report-json=r.json", "--report-md=r.md", "--report-html=r.html", "--vuln-report=v.json",
                     "--scan-timeout=5.0",
                     "--certify=out", "--fuzz-examples=0", "--fuzz-seed=7", "--no-egress", "--env=A=1", "--env=HOME",
                     "--env-file=e.env", "--cpus=0.5"):
        assert expected in argv
    assert {o.flag for o in options.OPTIONS} <= {a.split("=")[0] for a in argv}


def test_the_plugin_parses_what_the_command_forwards():
    parser = argparse.ArgumentParser()  # pytest's addoption takes argparse's keywords
    options.add_all(parser.add_argument, plugin=True)
    parsed = parser.parse_args(["--fuzz-seed=7", "--no-egress", "--endpoint=POST /a", "--scan-timeout=5.0"])
    assert (parsed.fuzz_seed, parsed.no_egress, parsed.endpoint, parsed.scan_timeout) == (7, True, ["POST /a"], 5.0)
    defaults = parser.parse_args([])
    assert defaults.fuzz_examples == options.DEFAULT_FUZZ_EXAMPLES and defaults.scan_timeout == 600.0
    assert defaults.endpoint == [] and defaults.no_egress is False and defaults.fuzz_seed is None


def test_a_bad_number_is_refused_by_the_command():
    with pytest.raises(SystemExit):
        cli._parser().parse_args(["img:v1", "--fuzz-examples", "many"])


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "two"])
def test_a_cpu_limit_must_be_a_positive_number(value, capsys):
    with pytest.raises(SystemExit):
        cli._parser().parse_args(["img:v1", "--cpus", value])
    assert "expected a positive number of CPUs" in capsys.readouterr().err


def test_the_command_runs_the_checks_without_assertion_rewriting_and_they_need_none():
    """`--assert=plain` saves a rewrite of every imported module per run; it loses nothing only
    while the checks decide with fail() and evidence, never with a bare assert."""
    import ast

    assert "--assert=plain" in forwarded()
    asserting = [f"{path.name}:{node.lineno}" for path in sorted(cli.SUITE_DIR.glob("*.py"))
                 for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Assert)]
    assert not asserting, asserting
