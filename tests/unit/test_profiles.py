"""Contract profiles as data: every bundled profile validates, the default one is the OCI contract
exactly, the others carry their platform's values and sources, and bad profiles are refused in one
line naming the file and the key."""

from __future__ import annotations

import pytest

from conformance.candidate.reach import LOCAL
from conformance.contract import catalogue, profile
from conformance.contract.agent_config import Budgets, parse_config
from conformance.errors import ConfigError
from conformance.run_context import RunContext


def test_the_bundled_profiles():
    assert profile.names() == ["aws-agentcore", "azure-foundry", "cloud-run", "knative", "oci-hosted"]
    for name in profile.names():
        contract = profile.load(name)
        assert contract.name == name and contract.version and contract.url
        rules = contract.requirements()
        assert rules and all(r.source for r in rules), name
        # Every rule of another platform names the page it comes from.
        assert name == "oci-hosted" or all(contract.rules[r.id].url.startswith("https://") for r in rules), name


def test_the_default_profile_is_the_oci_contract_unchanged():
    oci = profile.load(profile.DEFAULT)
    assert [r.id for r in oci.requirements()] == [r.id for r in catalogue.CATALOGUE]
    assert {r.id: r.title for r in oci.requirements()}["IMAGE-PLATFORM"] == "The image is linux/amd64."
    assert (oci.platform, oci.port, oci.ready.path, oci.health.path, oci.grace_s) == ("linux/amd64", 8080, "/ready",
                                                                                      "/health", 10.0)
    assert oci.read_only_root and oci.writable_paths == ("/tmp",) and not oci.session_headers
    assert oci.is_reserved("KUBERNETES_PORT_443_TCP") and oci.is_reserved("OCI_RESOURCE_PRINCIPAL_RPST")


def test_other_platforms_values():
    agentcore = profile.load("aws-agentcore")
    assert (agentcore.platform, agentcore.port, agentcore.ready.path) == ("linux/arm64", 8080, "/ping")
    assert agentcore.ready.json_values == ("Healthy", "HealthyBusy") and agentcore.health is None
    assert "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id" in agentcore.session_headers
    assert (agentcore.endpoint_method, agentcore.endpoint_path) == ("POST", "/invocations")
    ids = {r.id for r in agentcore.requirements()}
    assert "PING-STATUS-JSON" in ids and "NEGOTIATE-SSE" not in ids and "READONLY-ROOTFS" not in ids
    cloud_run = profile.load("cloud-run")
    assert cloud_run.port_from_env and not cloud_run.read_only_root and cloud_run.ready.kind == "tcp"
    assert "PORT-FROM-ENV" in {r.id for r in cloud_run.requirements()}
    foundry = profile.load("azure-foundry")
    assert (foundry.port, foundry.ready.path, foundry.endpoint_path) == (8088, "/readiness", "/responses")
    shutdown = {r.id: r for r in foundry.requirements()}["GRACEFUL-SHUTDOWN"]
    assert shutdown.level == "MUST" and "30 s" in shutdown.title  # the profile's own level and words


def test_the_run_context_carries_the_profiles_values():
    context = RunContext.make(profile.load("azure-foundry"), Budgets(), {"architecture": "amd64"}, LOCAL)
    platform = context.platform
    assert (platform.port, platform.ready_path, platform.health_path) == (8088, "/readiness", "/readiness")
    assert platform.probe_paths == ("/readiness",) and platform.is_reserved("FOUNDRY_AGENT_NAME")
    assert platform.user_url == "http://127.0.0.1:8088"
    assert [r.id for r in context.requirements][:2] == ["IMAGE-ENTRYPOINT", "IMAGE-RESERVED-ENV"]
    assert context.budgets == Budgets() and not platform.emulated and "emulated" not in context.engine


def test_an_emulated_run_scales_every_time_budget_and_the_probe_timeout():
    agentcore = profile.load("aws-agentcore")  # linux/arm64 on this amd64 engine: QEMU
    context = RunContext.make(agentcore, Budgets(startup_s=30, request_s=10), {"architecture": "amd64"}, LOCAL)
    assert context.platform.time_factor == 3 and context.platform.probe_timeout_s == 3.0
    assert (context.budgets.startup_s, context.budgets.request_s) == (90, 30)
    assert "×3" in context.engine["emulated"] and context.engine["reached"] == LOCAL.how
    native = RunContext.make(agentcore, Budgets(), {"architecture": "arm64"}, LOCAL)
    assert native.platform.time_factor == 1 and native.budgets == Budgets()


def test_two_contexts_in_one_process_do_not_see_each_other():
    oci = RunContext.make(profile.load("oci-hosted"), Budgets(), {}, LOCAL)
    foundry = RunContext.make(profile.load("azure-foundry"), Budgets(), {}, LOCAL)
    assert (oci.platform.port, foundry.platform.port) == (8080, 8088)
    assert oci.platform.reserved_env != foundry.platform.reserved_env


def test_an_unknown_profile_lists_the_known_ones():
    with pytest.raises(ConfigError, match="unknown profile 'aws'.*aws-agentcore, azure-foundry, cloud-run"):
        profile.load("aws")


@pytest.mark.parametrize("text, said", [
    ("[profile\nname = 1", "not valid TOML"),
    (open(profile.__file__.replace("profile.py", "profiles/cloud-run.toml")).read().replace("port = 8080", 'port = "8080"'),
     "server.port must be a whole number"),
    (open(profile.__file__.replace("profile.py", "profiles/cloud-run.toml")).read().replace('model = "writable-memory"',
                                                                                            'model = "tmpfs"'),
     "filesystem.model must be one of read-only-root, writable-memory"),
    (open(profile.__file__.replace("profile.py", "profiles/cloud-run.toml")).read() + "\n[requirements.NOT-AN-ID]\n",
     "names 'NOT-AN-ID', which is no requirement ID"),
    (open(profile.__file__.replace("profile.py", "profiles/cloud-run.toml")).read().replace('kind = "tcp"', 'kind = "grpc"'),
     "kind must be http or tcp"),
])
def test_a_profile_file_that_does_not_validate(tmp_path, text, said):
    path = tmp_path / "mine.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=said) as raised:
        profile.load(str(path))
    assert str(raised.value).startswith(f"profile {path}")


def test_the_agent_config_names_a_profile_and_a_port():
    config = parse_config({"profile": "cloud-run", "port": 8080}, "agent.toml")
    assert (config.profile, config.port, config.endpoints_given) == ("cloud-run", 8080, False)
    assert config.for_profile("POST", "/invocations", {"prompt": "x"}).endpoints[0].label == "POST /invocations"
    declared = parse_config({"endpoints": [{"method": "POST", "path": "/run"}]}, "agent.toml")
    assert declared.for_profile("POST", "/invocations", None).endpoints[0].label == "POST /run"
    with pytest.raises(ConfigError, match="port: expected a TCP port number"):
        parse_config({"port": 70000}, "agent.toml")
