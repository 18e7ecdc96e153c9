"""Agent config: TOML file or --endpoint/--json shorthand; bad configs name file, key, expectation."""

import pytest

from conformance.contract.agent_config import DEFAULT_BODY, AgentConfig, Endpoint, load_config_file, resolve_config
from conformance.errors import ConfigError


def write(tmp_path, text):
    path = tmp_path / "agent.toml"
    path.write_text(text)
    return path


def test_default_is_the_platform_example():
    config = resolve_config(None, [], [])
    assert config.endpoints == (Endpoint("POST", "/chat", {"message": "hello", "thread_id": "conformance"}),)
    assert config.budgets.startup_s == 30 and config.budgets.request_s == 10
    assert config.endpoints[0].json == DEFAULT_BODY


def test_full_file(tmp_path):
    path = write(tmp_path, """
[[endpoints]]
method = "post"
path = "/v1/chat"
json = { message = "hi", options = { stream = false } }

[[endpoints]]
method = "GET"
path = "/v1/agents/status"

[budgets]
startup_s = 5
request_s = 2.5
""")
    config = load_config_file(path)
    assert config.endpoints == (
        Endpoint("POST", "/v1/chat", {"message": "hi", "options": {"stream": False}}),
        Endpoint("GET", "/v1/agents/status", None),
    )
    assert (config.budgets.startup_s, config.budgets.request_s) == (5.0, 2.5)
    assert config.source == str(path)
    assert config.endpoints[0].body_bytes() == b'{"message": "hi", "options": {"stream": false}}'


def test_every_bound_is_a_budget_with_a_unit_read_from_its_name(tmp_path):
    config = load_config_file(write(tmp_path, "[budgets]\nstream_s = 2\nresponse_mib = 0.5\nheader_kib = 16\n"
                                              "stream_events = 100\nmemory_mib = 256\npids = 64\nfirst_byte_s = 1.5\ncpus = 1\n"))
    budgets = config.budgets
    assert (budgets.stream_s, budgets.first_byte_s, budgets.stream_events, budgets.pids) == (2.0, 1.5, 100, 64)
    assert budgets.response_bytes == 512 << 10 and budgets.header_bytes == 16 << 10 and budgets.memory_mib == 256.0
    assert isinstance(budgets.pids, int) and isinstance(budgets.response_mib, float)
    assert budgets.cpus == 1.0 and isinstance(budgets.cpus, float)


def test_budgets_alone_keep_the_default_endpoint(tmp_path):
    config = load_config_file(write(tmp_path, "[budgets]\nstartup_s = 3\n"))
    assert config.endpoints == AgentConfig().endpoints
    assert config.budgets.startup_s == 3


@pytest.mark.parametrize(
    "text, message",
    [
        ("[[endpoints]]\npath = '/chat'\n", r"endpoints\[0\]\.method: missing"),
        ("[[endpoints]]\nmethod = 42\npath = '/chat'\n", r"endpoints\[0\]\.method: expected an HTTP method"),
        ("[[endpoints]]\nmethod = 'GET'\npath = 'chat'\n", r"endpoints\[0\]\.path: expected a path starting with \"/\""),
        ("[[endpoints]]\nmethod = 'GET'\npath = '/a b'\n", r"endpoints\[0\]\.path"),
        ("[[endpoints]]\nmethod = 'GET'\npath = '/x'\nbody = 1\n", r"endpoints\[0\]: unknown key 'body'"),
        ("[budgets]\nstartup_s = -1\n", r"budgets\.startup_s: expected a positive number of seconds, got -1"),
        ("[budgets]\nrequest_s = 'ten'\n", r"budgets\.request_s: expected a positive number"),
        ("[budgets]\nstartup = 3\n", r"budgets: unknown key 'startup'"),
        ("[budgets]\npids = 64.5\n", r"budgets\.pids: expected a positive whole number, got 64\.5"),
        ("[budgets]\nstream_events = 0\n", r"budgets\.stream_events: expected a positive whole number"),
        ("[budgets]\nmemory_mib = true\n", r"budgets\.memory_mib: expected a positive number of MiB, got True"),
        ("[budgets]\ncpus = 0\n", r"budgets\.cpus: expected a positive number of CPUs, got 0"),
        ("[endpoint]\nmethod = 'GET'\n", r"unknown key 'endpoint'"),
        ("endpoints = []\n", r"endpoints: expected one or more"),
        ("[[endpoints]]\nmethod='GET'\npath='/a'\n[[endpoints]]\nmethod='get'\npath='/a'\n", "GET /a is declared twice"),
        ("[[endpoints\n", "not valid TOML"),
    ],
)
def test_bad_file_is_refused_naming_file_and_key(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=message) as info:
        load_config_file(path)
    assert str(info.value).startswith(str(path))


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read agent config"):
        load_config_file(tmp_path / "absent.toml")


def test_shorthand_one_body_for_all():
    config = resolve_config(None, ["POST /chat", "PUT /v2/chat"], ['{"message": "x"}'])
    assert [e.json for e in config.endpoints] == [{"message": "x"}, {"message": "x"}]
    assert [e.label for e in config.endpoints] == ["POST /chat", "PUT /v2/chat"]


def test_shorthand_one_body_each_in_order():
    config = resolve_config(None, ["POST /a", "POST /b"], ['{"a": 1}', '{"b": 2}'])
    assert [e.json for e in config.endpoints] == [{"a": 1}, {"b": 2}]


def test_shorthand_without_json_sends_no_body():
    assert resolve_config(None, ["GET /status"], []).endpoints == (Endpoint("GET", "/status", None),)


@pytest.mark.parametrize(
    "endpoints, bodies, message",
    [
        (["POST /a", "POST /b", "POST /c"], ["{}", "{}"], "--json given 2 times for 3 --endpoint"),
        (["POST /a"], ["{nope"], r"--json #1: not valid JSON"),
        ([], ["{}"], "--json needs --endpoint"),
        (["/chat"], [], "expected an HTTP method"),
    ],
)
def test_bad_shorthand(endpoints, bodies, message):
    with pytest.raises(ConfigError, match=message):
        resolve_config(None, endpoints, bodies)


def test_file_and_shorthand_together_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="not both"):
        resolve_config(str(write(tmp_path, "")), ["POST /chat"], [])


def test_a_profile_file_is_found_beside_the_config_wherever_the_run_starts(tmp_path, monkeypatch):
    folder = tmp_path / "agent"
    folder.mkdir()
    (folder / "agent.toml").write_text('profile = "my-platform.toml"\n')
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert load_config_file(folder / "agent.toml").profile == str(folder / "my-platform.toml")
    # a profile's name and an absolute path stay as written
    (folder / "named.toml").write_text('profile = "cloud-run"\n')
    assert load_config_file(folder / "named.toml").profile == "cloud-run"
    (folder / "absolute.toml").write_text(f'profile = "{tmp_path}/p.toml"\n')
    assert load_config_file(folder / "absolute.toml").profile == f"{tmp_path}/p.toml"


def test_setup_requests_are_read_in_order_and_checked_as_endpoints_are(tmp_path):
    path = tmp_path / "agent.toml"
    path.write_text('[[setup]]\nmethod = "post"\npath = "/sessions/s1"\njson = {}\n'
                    '[[setup]]\nmethod = "PUT"\npath = "/warm"\n')
    config = load_config_file(path)
    assert config.setup == (Endpoint("POST", "/sessions/s1", {}), Endpoint("PUT", "/warm", None))
    assert config.as_dict()["setup"] == [{"method": "POST", "path": "/sessions/s1", "json": {}},
                                         {"method": "PUT", "path": "/warm", "json": None}]
    assert load_config_file(tmp_path / "agent.toml").endpoints == AgentConfig().endpoints  # none declared: the default
    path.write_text('[[setup]]\nmethod = "POST"\n')
    with pytest.raises(ConfigError, match=r"setup\[0\]\.path: missing"):
        load_config_file(path)
    path.write_text('setup = "POST /x"\n')
    with pytest.raises(ConfigError, match=r"setup: expected \[\[setup\]\] tables"):
        load_config_file(path)
