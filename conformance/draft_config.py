"""`agent-conformance init IMAGE`: start the image once, as the platform would, and write an
agent.toml to edit: the endpoints of the agent's OpenAPI document when it serves one (FastAPI does,
at /openapi.json), each with an example body from its schema, else the platform's default
`POST /chat`. What could not be used (no document, a broken or oversized one) is a note in the
written file, never a traceback.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

from .candidate import labels
from .candidate.container import CandidateFactory
from .candidate.engine import connect, describe, for_slow_calls, inspect_image
from .contract import openapi
from .contract.platform import Platform, emulation_factor
from .contract.profile import DEFAULT, Profile, load
from .contract.agent_config import AgentConfig, Budgets
from .errors import InfrastructureError, NotChecked
from .wire import bounded, exchange, mediatype


def check_output(path: Path, force: bool) -> None:
    """Refuse, before any container starts, a file that exists (unless `force`) or a folder that
    is missing or not writable."""
    if path.is_dir():
        raise InfrastructureError(f"{path} is a folder: give a file name, e.g. --output {path / 'agent.toml'}")
    if path.exists() and not force:
        raise InfrastructureError(f"{path} exists: give another --output, or --force to replace it")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InfrastructureError(f"{folder}: no such folder for {path}")
    if not os.access(folder, os.W_OK):
        raise InfrastructureError(f"{folder}: not writable, cannot write {path}")


MAX_DOCUMENT_BYTES = 4 << 20  # an OpenAPI document larger than this is not read


def fetch_document(candidate) -> tuple[object | None, list[str]]:
    """The agent's OpenAPI document (None when there is none to use) and notes saying why not.
    Read within the budgets like every answer, and at most MAX_DOCUMENT_BYTES of it."""
    received = bytearray()

    def keep(chunk: bytes) -> str | None:
        received.extend(chunk)
        return f"over {MAX_DOCUMENT_BYTES >> 20} MiB" if len(received) > MAX_DOCUMENT_BYTES else None

    with candidate.client_http() as http:
        reading = bounded.read(http, "GET", openapi.OPENAPI_PATH, headers={"Accept": mediatype.JSON}, body=None,
                               what="the document", on_chunk=keep)
    where = f"GET {openapi.OPENAPI_PATH}"
    if reading.status is None:
        return None, [f"{where}: no answer ({exchange.describe_error(reading.error, candidate.budgets.request_s)})"]
    if reading.status != 200:
        return None, [f"{where} answered {reading.status}: no OpenAPI document to read"]
    if reading.stopped or reading.error is not None:
        return None, [f"{where}: the document was not read whole ({reading.stopped or type(reading.error).__name__})"]
    try:
        return json.loads(received), []
    except (ValueError, RecursionError) as exc:
        return None, [f"{where}: not JSON ({str(exc)[:120]})"]


def draft(image_ref: str, output: Path, force: bool = False, budgets: Budgets | None = None,
          profile: Profile | None = None) -> list[str]:
    """Write the drafted agent.toml to `output`; returns the lines to print. The image is started
    as `profile`'s platform (the default one unless given) starts it: its port, filesystem,
    variables, and its time budgets scaled where it runs under emulation."""
    check_output(output, force)
    profile = profile or load(DEFAULT)
    client = connect()
    factor = emulation_factor(profile, str(describe(client).get("architecture", "")))
    budgets = (budgets or Budgets()).scaled(factor)
    platform = Platform(profile, factor)
    image = inspect_image(client, image_ref)
    run_id = uuid.uuid4().hex
    factory = CandidateFactory(client, image, run_id, labels.owner_id(), budgets, platform=platform)
    candidate = factory.make(check="init")
    try:
        candidate.start()
        startup = candidate.wait_ready(budgets.startup_s)
        if startup.serving:
            document, notes = fetch_document(candidate)
        else:
            document, notes = None, [f"the image did not serve: {startup.cause()}"]
    except NotChecked as exc:
        document, notes = None, [f"the image could not be started: {exc}"]
    finally:
        candidate.remove()
        # And by label: a Ctrl-C while Docker creates the container leaves one the candidate never saw.
        labels.remove_labelled(for_slow_calls(client), {labels.LABEL_RUN: run_id})
    if document is None:
        config, more = AgentConfig(), ["the platform's default endpoint is declared"]
    else:
        config, more = openapi.draft(document, platform.probe_paths)
    config = config.for_profile(profile.endpoint_method, profile.endpoint_path, profile.endpoint_json)
    notes += more
    source = f"GET {openapi.OPENAPI_PATH}" if config.source == "openapi" else "the platform's default endpoint"
    header = [f"agent.toml for {image_ref}, drafted by `agent-conformance init` from {source}.",
              "Check each endpoint and its example body (the request the suite sends), then run:",
              f"  agent-conformance {image_ref} --agent-config {output.name}"]
    try:
        output.write_text(openapi.render(config, header, notes, "" if profile.name == DEFAULT else profile.name),
                          encoding="utf-8")
    except OSError as exc:
        raise InfrastructureError(f"cannot write {output}: {exc.strerror or exc}") from None
    return [f"wrote {output}: {', '.join(e.label for e in config.endpoints)}", *(f"note: {n}" for n in notes)]
