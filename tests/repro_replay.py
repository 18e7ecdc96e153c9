"""Replaying a report's reproductions as a user would: a fresh container of the image, started
with `docker run -p PORT:PORT IMAGE` as the repro file's header says (published on 127.0.0.1 at a
free port here), and each `repro: curl …` line run by bash as written, against it. Each must show
the failure its finding names again: a 5xx, no answer, a dropped connection, the container's exit,
/health changed, or a malformed answer."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

import docker

from conformance.candidate.labels import LABEL, LABEL_OWNER, owner_id
from conformance.wire import mediatype, sse
from conformance.wire.curl import REPRO_PREFIX

REQUEST_S = 15.0  # above the default request budget (10 s): a hang shows as no answer within it
READY_S = 90.0


@dataclass(frozen=True)
class Repro:
    requirement: str
    cause: str  # the finding's sentence, the line before the curl
    command: str


def repros_of(report: dict) -> list[Repro]:
    found = []
    for row in report["requirements"]:
        lines = [line.strip() for line in row["evidence"]]
        for i, line in enumerate(lines):
            if line.startswith(REPRO_PREFIX) and i:
                found.append(Repro(row["id"], lines[i - 1], line.removeprefix(REPRO_PREFIX)))
    return found


def _answered(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (OSError, ValueError):
        return None


class FreshContainer:
    """`docker run -p 127.0.0.1::PORT IMAGE`, labelled as the suite's own (so no run's sweep or
    leftover check misses it), removed on exit."""

    def __init__(self, client: docker.DockerClient, image: str, port: int, setup: list[str] = ()):
        self.client, self.image, self.port, self.owner = client, image, port, owner_id()
        self.setup = list(setup)  # the report's [[setup]] curl commands, run once it answers
        self.user_url = f"http://127.0.0.1:{port}"  # what the repro lines name (docker run -p PORT:PORT)

    def __enter__(self) -> "FreshContainer":
        self.container = self.client.containers.run(
            self.image, detach=True, ports={f"{self.port}/tcp": ("127.0.0.1", None)},
            labels={LABEL: "repro-replay", LABEL_OWNER: self.owner})
        deadline = time.monotonic() + READY_S
        while time.monotonic() < deadline:
            self.container.reload()
            binding = (self.container.attrs["NetworkSettings"]["Ports"] or {}).get(f"{self.port}/tcp")
            if binding and _answered(f"{self.base_url(binding)}/") is not None:
                self.url = self.base_url(binding)
                for command in self.setup:
                    subprocess.run(["bash", "-c", command.replace(self.user_url, self.url)], capture_output=True,
                                   timeout=REQUEST_S)
                return self
            if self.container.status == "exited":
                break
            time.sleep(0.2)
        raise AssertionError(f"a fresh {self.image} never answered HTTP: {self.container.logs()[-2000:]!r}")

    @staticmethod
    def base_url(binding) -> str:
        return f"http://127.0.0.1:{binding[0]['HostPort']}"

    def running(self) -> bool:
        self.container.reload()
        return self.container.status == "running"

    def __exit__(self, *exc) -> None:
        self.container.remove(force=True)


def replay(repro: Repro, fresh: FreshContainer) -> str:
    """"" when the failure shows again, else what came instead."""
    command = repro.command.replace(fresh.user_url, fresh.url)
    try:
        done = subprocess.run(["bash", "-c", command], capture_output=True, timeout=REQUEST_S)
    except subprocess.TimeoutExpired:
        return "" if "no answer within" in repro.cause else f"no answer within {REQUEST_S:g} s"
    head, _, body = done.stdout.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    status = int(status_line.split()[1]) if status_line.startswith("HTTP/") else None
    headers = dict(line.decode("latin-1").split(":", 1) for line in head.split(b"\r\n")[1:] if b":" in line)
    content_type = next((v.strip() for k, v in headers.items() if k.lower() == "content-type"), None)
    cause = repro.cause
    if "5xx" in cause:
        seen = status is not None and status >= 500
    elif "container exited" in cause:
        deadline = time.monotonic() + 5
        while fresh.running() and time.monotonic() < deadline:
            time.sleep(0.2)
        seen = not fresh.running()
    elif "dropped in the middle of the answer" in cause:  # curl 18: transfer closed with data outstanding
        seen = status is not None and done.returncode == 18
    elif "connection was dropped" in cause:
        seen = status is None and done.returncode in (52, 56)
    elif "no answer within" in cause:
        seen = False  # it answered
    elif "GET /health answered" in cause:
        seen = _answered(f"{fresh.url}/health") != 200
    elif "does not parse as JSON" in cause:
        seen = status is not None and 200 <= status < 300 and _not_json(body)
    elif "neither JSON nor an event stream" in cause:
        seen = not (mediatype.is_media_type(content_type, mediatype.JSON)
                    or mediatype.is_media_type(content_type, mediatype.EVENT_STREAM))
    elif "framing rules" in cause:
        seen = bool([v for v in sse.validate(body)[1] if v.severity == "error"])
    else:
        return f"no replay rule for {cause!r}"
    return "" if seen else f"came back: {status_line or f'curl exit {done.returncode}'} {body[:120]!r}"


def _not_json(body: bytes) -> bool:
    try:
        json.loads(body)
        return False
    except ValueError:
        return True
