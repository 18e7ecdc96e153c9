"""The reproductions file beside a report (conformance.report.repro): each failing generated
request under its requirement, after the agent config's [[setup]] requests when there are any;
run as written against a real server, the setup goes first."""

from __future__ import annotations

import http.server
import subprocess
import threading

from conformance.report.repro import write_reproductions
from conformance.wire.curl import REPRO_PREFIX, curl_command


def _report(setup: list[str], base: str) -> dict:
    return {"image": {"ref": "agent:v1"}, "profile": {"port": 8088}, "setup": setup,
            "requirements": [{"id": "ROBUST-INPUT", "evidence": [
                "answered 500: a request must never cause a 5xx",
                REPRO_PREFIX + curl_command("POST", "/run", [("Content-Type", "application/json")], b"NaN", base_url=base)]},
                             {"id": "READY-200", "evidence": ["GET /ready → 200"]}]}


def test_without_setup_the_file_names_the_port_and_each_failing_request(tmp_path):
    path = tmp_path / "r.repro.sh"
    write_reproductions(path, _report([], "http://127.0.0.1:8088"))
    text = path.read_text()
    assert "docker run --rm -p 8088:8088 IMAGE" in text and "[[setup]]" not in text
    assert "# ROBUST-INPUT\ncurl -sS -i -X POST" in text and "READY-200" not in text


def test_the_setup_requests_run_first_as_written(tmp_path):
    seen: list[tuple[str, str]] = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen.append(("POST", self.path))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        setup = [curl_command("POST", "/apps/echo/users/u/sessions/s", [("Content-Type", "application/json")], b"{}",
                              base_url=base)]
        path = tmp_path / "r.repro.sh"
        write_reproductions(path, _report(setup, base))
        text = path.read_text()
        assert text.index("[[setup]] requests") < text.index(setup[0]) < text.index("# ROBUST-INPUT")
        subprocess.run(["bash", str(path)], check=True, capture_output=True, timeout=20)
    finally:
        server.shutdown()
    assert seen == [("POST", "/apps/echo/users/u/sessions/s"), ("POST", "/run")]
