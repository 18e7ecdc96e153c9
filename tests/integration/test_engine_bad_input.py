"""Engines that cannot be used end the run at once: exit 2, one line naming the setting and what to
do, the report written, nothing left on any engine."""

from __future__ import annotations

import http.server
import json
import socketserver
import tempfile
import threading
import time
from pathlib import Path

import pytest

from tests.dockerproxy import DockerProxy


def _one_line(run, *said: str) -> str:
    lines = [line for line in (run.stdout + run.stderr).splitlines() if line.startswith(("ERROR: agent-conformance",
                                                                                         "agent-conformance:"))]
    assert len(lines) == 1, run.explain()
    for text in said:
        assert text in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("host, said", [
    ("unix:///run/podman-not-started/podman.sock", ["no socket there", "podman system service"]),
    ("tcp://127.0.0.1:9", ["connection refused", "DOCKER_HOST"]),
    ("ssh://nobody@127.0.0.1:9", ["ssh://"]),
])
def test_an_engine_that_cannot_be_reached(host, said, run_cli):
    started = time.monotonic()
    run = run_cli("anything:v1", env={"DOCKER_HOST": host})
    assert run.returncode == 2, run.explain()
    _one_line(run, f"cannot reach the Docker daemon at {host}", *said)
    assert run.report is not None and {r["status"] for r in run.report["requirements"]} == {"error"}
    assert time.monotonic() - started < 30


class _OldEngine(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    """An engine that answers as Docker 1.13 did (API 1.26): no such daemon can run here, so this
    one is made of its two answers the suite asks before anything else."""

    daemon_threads = True

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the standard library's name
            body = b"OK" if self.path.endswith("/_ping") else json.dumps(
                {"Version": "1.13.1", "ApiVersion": "1.26", "MinAPIVersion": "1.12", "Os": "linux"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain" if body == b"OK" else "application/json")
            self.send_header("Api-Version", "1.26")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def address_string(self):
            return "old-engine"

        def log_message(self, *args):
            pass


def test_an_engine_too_old_for_the_api_the_suite_needs(run_cli):
    path = Path(tempfile.mkdtemp(prefix="ac-old-")) / "docker.sock"
    server = _OldEngine(str(path), _OldEngine.Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        run = run_cli("anything:v1", env={"DOCKER_HOST": f"unix://{path}"})
    finally:
        server.shutdown()
        server.server_close()
    assert run.returncode == 2, run.explain()
    _one_line(run, "speaks API 1.26", "needs 1.30", "upgrade the engine")


def _bridge_gateway(docker_client) -> str:
    config = docker_client.api.inspect_network("bridge")["IPAM"]["Config"][0]
    return config.get("Gateway") or config["Subnet"].rsplit(".", 2)[0] + ".0.1"


def test_no_egress_is_refused_with_a_remote_engine(built_samples, run_cli, docker_client):
    remote = DockerProxy(tcp_host=_bridge_gateway(docker_client))
    try:
        run = run_cli(built_samples["reference"].tag, "--no-egress", env={"DOCKER_HOST": remote.url})
    finally:
        remote.close()
    assert run.returncode == 2, run.explain()
    _one_line(run, "--no-egress needs the candidates' own addresses", remote.url)


def test_a_remote_engine_gives_the_local_verdict(built_samples, run_cli, docker_client):
    """Through TCP at the daemon host's bridge address: candidates published on every interface
    and reached there; the loopback-only sample still fails LISTEN-ALL-INTERFACES at once."""
    remote = DockerProxy(tcp_host=_bridge_gateway(docker_client))
    try:
        run = run_cli(built_samples["broken/loopback-only"].tag, env={"DOCKER_HOST": remote.url})
    finally:
        remote.close()
    assert run.returncode == 1, run.explain()
    assert [r["id"] for r in run.report["requirements"] if r["status"] == "fail"] == ["LISTEN-ALL-INTERFACES"]
    assert "through a port published on its every interface" in run.report["engine"]["reached"]
    assert "listens on 127.0.0.1:8080" in " ".join(
        next(r for r in run.report["requirements"] if r["id"] == "LISTEN-ALL-INTERFACES")["evidence"])
