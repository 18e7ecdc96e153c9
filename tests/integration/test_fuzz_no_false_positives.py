"""The conformant agents come out of fuzzing clean at 10× the default budget: no false positives."""

from __future__ import annotations

import tomllib

import pytest

from conformance.options import DEFAULT_FUZZ_EXAMPLES

CONFORMANT = ["reference", "stdlib"]


def _with_fuzz_budget(sample, path, seconds: float) -> str:
    """The sample's agent config with a wall-clock cap the larger campaign fits in."""
    data = tomllib.loads(sample.agent_config.read_text()) if sample.agent_config else {}
    lines = []
    for endpoint in data.get("endpoints", []):
        lines += ["[[endpoints]]", f'method = "{endpoint["method"]}"', f'path = "{endpoint["path"]}"']
        if endpoint.get("json") is not None:
            lines.append("json = " + _inline_table(endpoint["json"]))
    lines += ["[budgets]", f"fuzz_s = {seconds}"]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def _inline_table(value) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_inline_table(v)}" for k, v in value.items()) + " }"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value).lower() if isinstance(value, bool) else str(value)


@pytest.mark.parametrize("name", CONFORMANT)
def test_conformant_agent_is_clean_at_ten_times_the_default_fuzz_budget(name, built_samples, run_cli, tmp_path):
    sample = built_samples[name]
    config = _with_fuzz_budget(sample, tmp_path / "agent.toml", seconds=240)
    run = run_cli(sample.tag, "--agent-config", config, "--fuzz-examples", str(10 * DEFAULT_FUZZ_EXAMPLES),
                  "--", "-k", "fuzz", timeout_s=400)
    robust = run.requirement("ROBUST-INPUT")
    assert robust["status"] == "pass", run.explain()
    assert run.requirement("SSE-FRAMING")["status"] == "pass", run.explain()
    assert f"{10 * DEFAULT_FUZZ_EXAMPLES} generated examples" in robust["evidence"][0], robust["evidence"]
