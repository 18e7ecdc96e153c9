"""A conformant agent for the other platforms' contract profiles, on Python's standard library.

One program, three platforms' shapes, chosen by AGENT_PLATFORM (the samples' Dockerfiles set it):

- `cloud-run` (the default): serves on the port in $PORT (8080 when unset); `POST /chat`;
- `azure-foundry`: serves on 8088; `GET /readiness`; `POST /responses` (the Responses API shape,
  streamed when the body says `"stream": true`) and `POST /invocations`;
- `aws-agentcore`: serves on 8080; `GET /ping` answers `{"status": "Healthy"}`; `POST /invocations`.

The broken twins switch one defect on with a variable of their own: AGENT_IGNORE_PORT_ENV (serve
on 8080 whatever $PORT says), AGENT_READINESS_PATH (readiness on another path), AGENT_PING_TEXT
(`/ping` in plain text), AGENT_EVENT_NAME (every Responses event named so instead of its type),
AGENT_SESSION_LOOKUP (a 500 for a session ID it has not seen, as a session store would).
"""

import json
import os
import signal
import sys
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PLATFORM = os.environ.get("AGENT_PLATFORM", "cloud-run")
TOKEN_DELAY_S = 0.05


def port():
    if PLATFORM == "azure-foundry":
        return 8088
    if PLATFORM == "cloud-run" and not os.environ.get("AGENT_IGNORE_PORT_ENV"):
        return int(os.environ.get("PORT", "8080"))
    return 8080


def probe_routes():
    """GET paths the platform probes, and what they answer."""
    if PLATFORM == "azure-foundry":
        return {os.environ.get("AGENT_READINESS_PATH", "/readiness"): ("json", {"status": "ready"})}
    if PLATFORM == "aws-agentcore":
        if os.environ.get("AGENT_PING_TEXT"):
            return {"/ping": ("text", "Healthy")}
        return {"/ping": ("json", {"status": "Healthy"})}
    return {"/": ("json", {"service": "agent", "status": "ok"})}


class Handler(BaseHTTPRequestHandler):
    server_version = "platform-agent/1.0"
    protocol_version = "HTTP/1.0"  # one request per connection; a stream ends when the connection does

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))

    def send_body(self, status, content_type, body):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, status, payload):
        self.send_body(status, "application/json", json.dumps(payload).encode())

    def send_error(self, code, message=None, explain=None):
        # The standard library answers errors (bad request lines, unknown methods) in HTML.
        self.close_connection = True
        if code == 501:
            code = 405
        try:
            self.send_json(code, {"error": message or self.responses.get(code, ("error",))[0]})
        except OSError:
            pass

    def __getattr__(self, name):
        if name.startswith("do_"):  # any other method token: 405 in JSON
            return lambda: self.send_json(405, {"error": f"method {self.command} not allowed"})
        raise AttributeError(name)

    def read_json(self):
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return None, "invalid Content-Length"
        if length < 0 or length > 1 << 20:
            return None, "body too large"
        raw = self.rfile.read(length)
        try:
            return json.loads(raw.decode("utf-8")), None
        except (UnicodeDecodeError, ValueError) as exc:
            return None, f"body is not JSON: {exc}"

    def do_GET(self):
        route = probe_routes().get(self.path)
        if route is None:
            return self.send_json(404, {"error": f"no route {self.path}"})
        kind, payload = route
        if kind == "text":
            return self.send_body(200, "text/plain", payload.encode())
        self.send_json(200, payload)

    def do_HEAD(self):
        self.do_GET()

    def do_POST(self):
        routes = {"cloud-run": ("/chat",), "azure-foundry": ("/responses", "/invocations"),
                  "aws-agentcore": ("/invocations",)}[PLATFORM]
        if self.path not in routes:
            return self.send_json(404, {"error": f"no route {self.path}"})
        session = self.headers.get("X-Amzn-Bedrock-AgentCore-Runtime-Session-Id")
        if session and os.environ.get("AGENT_SESSION_LOOKUP"):
            return self.send_json(500, {"error": f"session {session} not found"})
        body, error = self.read_json()
        if error:
            return self.send_json(400, {"error": error})
        if not isinstance(body, dict):
            return self.send_json(422, {"error": "expected a JSON object"})
        text = body.get("message") or body.get("input") or body.get("prompt")
        if not isinstance(text, str):
            return self.send_json(422, {"error": 'expected "message", "input" or "prompt": a string'})
        words = text.encode("utf-8", "replace").decode("utf-8").split()[:20] or ["(empty)"]
        if self.path == "/responses":
            return self.responses_api(words, body.get("stream") is True)
        if "text/event-stream" in self.headers.get("Accept", "").lower():
            return self.stream([("token", {"text": w}) for w in words] + [("end", {})])
        self.send_json(200, {"reply": " ".join(words)})

    def responses_api(self, words, streamed):
        response = {"id": f"resp_{uuid.uuid4().hex}", "object": "response", "created_at": int(time.time()),
                    "status": "completed", "output": [{"type": "message", "role": "assistant", "content": [
                        {"type": "output_text", "text": " ".join(words)}]}]}
        if not streamed:
            return self.send_json(200, response)
        events = [("response.created", {"type": "response.created", "response": {**response, "status": "in_progress"}})]
        events += [("response.output_text.delta", {"type": "response.output_text.delta", "delta": w + " "})
                   for w in words]
        events.append(("response.completed", {"type": "response.completed", "response": response}))
        self.stream(events)

    def stream(self, events):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        for name, data in events:
            time.sleep(TOKEN_DELAY_S)
            name = os.environ.get("AGENT_EVENT_NAME") or name
            self.wfile.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
            self.wfile.flush()


def main():
    server = ThreadingHTTPServer(("0.0.0.0", port()), Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # Python as PID 1 ignores SIGTERM unless handled
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
