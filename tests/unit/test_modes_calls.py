"""conformance.wire.modes against a real local server: the calls made the moment /ready says 200
go out in both modes at once, and `exercise` takes them instead of asking again."""

from __future__ import annotations

import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from conformance.contract.agent_config import resolve_config
from conformance.contract.platform import Platform, default
from conformance.contract.profile import load
from conformance.wire import modes

DELAY_S = 0.3  # each answer of the endpoint takes this long: a model's latency, shortened


class _Agent(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    calls: Counter = Counter()
    status = 200
    always_streams = False  # an AgentCore streaming entrypoint: an event stream whatever Accept says

    def log_message(self, *args):
        pass

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self._send(200, "application/json", b'{"status": "ok"}')

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        accept = self.headers.get("Accept", "")
        type(self).calls[accept] += 1
        time.sleep(DELAY_S)
        if "text/event-stream" in accept or type(self).always_streams:
            self._send(type(self).status, "text/event-stream", b"data: hi\n\n")
        else:
            self._send(type(self).status, "application/json", b'{"reply": "hi"}')


@pytest.fixture
def agent():
    _Agent.calls = Counter()
    _Agent.status = 200
    _Agent.always_streams = False
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Agent)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    with httpx.Client(base_url=f"http://127.0.0.1:{server.server_address[1]}", timeout=5) as client:
        yield client
    server.shutdown()
    server.server_close()


CONFIG = resolve_config(None, ["POST /chat"], ['{"message": "hi"}'])


def test_first_calls_ask_both_modes_at_once(agent):
    started = time.monotonic()
    first = modes.call_at_ready(agent, CONFIG)
    assert time.monotonic() - started < 2 * DELAY_S  # together, not one after the other
    assert [a.status for a in first] == [200, 200]
    assert [a.target for a in modes.json_mode(first)] == ["/chat"]  # what READY-TRUTHFUL judges
    assert _Agent.calls == {modes.JSON_MODE: 1, modes.SSE_MODE: 1}


def test_exercise_takes_served_first_calls_as_they_are(agent):
    first = modes.call_at_ready(agent, CONFIG)
    observations = modes.exercise(agent, CONFIG, first, platform=default())
    assert _Agent.calls == {modes.JSON_MODE: 1, modes.SSE_MODE: 1}  # nothing asked again
    assert [o.problem for o in observations] == [None] * len(observations)
    assert [o.what for o in observations][-2:] == [f"POST /chat (Accept: {modes.JSON_MODE})",
                                                   f"POST /chat (Accept: {modes.SSE_MODE})"]


def test_exercise_asks_again_when_a_first_call_failed(agent):
    _Agent.status = 503
    first = modes.call_at_ready(agent, CONFIG)
    _Agent.status = 200
    observations = modes.exercise(agent, CONFIG, first, platform=default())
    assert _Agent.calls == {modes.JSON_MODE: 2, modes.SSE_MODE: 2}  # the settled agent, not the first answers
    assert [o.problem for o in observations] == [None] * len(observations)


def test_where_the_agent_chooses_the_form_a_stream_to_json_mode_is_as_the_contract_asks(agent):
    """AgentCore lets the agent answer JSON or an event stream: PLATFORM-ENV's count of answers
    "as the contract asks" must not hold a streaming entrypoint's answers against it."""
    _Agent.always_streams = True
    agentcore = Platform(load("aws-agentcore"))
    assert [o.problem for o in modes.exercise(agent, CONFIG, platform=agentcore)] == [None] * 3  # /ping, both modes
    strict = modes.exercise(agent, CONFIG, platform=default())  # OCI: Accept chooses the form
    assert [o.problem for o in strict][-2:] == ["answered Content-Type 'text/event-stream', not application/json", None]
    _Agent.status = 406
    refused = modes.exercise(agent, CONFIG, platform=agentcore)
    assert [o.problem for o in refused][-2:] == ["answered 406", None]  # SSE mode: a 406 is its choice of form
