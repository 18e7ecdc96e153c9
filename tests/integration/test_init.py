"""`agent-conformance init IMAGE`: an agent.toml drafted from what the image serves, on real
containers: the reference's FastAPI document, an agent with none, broken and oversized documents;
bad output paths refused before any container starts; nothing left in the engine."""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile

import pytest

from conformance.contract.agent_config import DEFAULT_BODY, load_config_file
from tests.helpers import leftovers, owner_of

OVERRIDE = b'''"""Serves a broken or an oversized OpenAPI document instead of FastAPI's own."""
import os

from fastapi.responses import Response

from agent import app, drop_route, serve

drop_route("/openapi.json")
BODY = (b'{"openapi": "3.1.0", "paths": {' if os.environ["OPENAPI_KIND"] == "broken"
        else b'{"paths": {}, "pad": "' + b"x" * (5 << 20) + b'"}')


@app.get("/openapi.json")
def document():
    return Response(BODY, media_type="application/json")


if __name__ == "__main__":
    serve()
'''


def init(*args: str, client) -> tuple[subprocess.CompletedProcess, list[str]]:
    process = subprocess.Popen([sys.executable, "-m", "conformance.cli", "init", *args], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    stdout, stderr = process.communicate(timeout=180)
    done = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    return done, leftovers(client, owner_of(process))


@pytest.fixture(scope="module")
def odd_documents(built_samples, docker_client):
    """Two images from the reference serving a broken and an oversized /openapi.json (removed after)."""
    tags = {}
    for kind in ("broken", "oversized"):
        dockerfile = (f"FROM {built_samples['reference'].tag}\nCOPY override.py ./\nENV OPENAPI_KIND={kind}\n"
                      'CMD ["python", "override.py"]\n').encode()
        context = io.BytesIO()
        with tarfile.open(fileobj=context, mode="w") as tar:
            for name, data in (("Dockerfile", dockerfile), ("override.py", OVERRIDE)):
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        context.seek(0)
        tags[kind] = f"agent-conformance/test-init-{kind}:latest"
        docker_client.images.build(fileobj=context, custom_context=True, tag=tags[kind], rm=True, timeout=300)
    yield tags
    for tag in tags.values():
        docker_client.images.remove(tag, force=True)


def test_the_reference_gets_its_endpoint_from_its_openapi_document(built_samples, docker_client, tmp_path):
    out = tmp_path / "agent.toml"
    done, left = init(built_samples["reference"].tag, "-o", str(out), client=docker_client)
    assert done.returncode == 0, done.stderr
    assert not left
    config = load_config_file(out)
    assert [(e.label, e.json) for e in config.endpoints] == [("POST /chat", {"message": "hello"})]
    assert "from GET /openapi.json" in out.read_text() and done.stdout.startswith(f"wrote {out}: POST /chat")


def test_an_agent_without_a_document_gets_the_platform_default(built_samples, docker_client, tmp_path):
    out = tmp_path / "agent.toml"
    done, left = init(built_samples["stdlib"].tag, "-o", str(out), client=docker_client)
    assert done.returncode == 0 and not left, done.stderr
    assert load_config_file(out).endpoints[0].json == DEFAULT_BODY
    assert "# note: GET /openapi.json answered 404" in out.read_text()


@pytest.mark.parametrize("kind, said", [("broken", "GET /openapi.json: not JSON"),
                                        ("oversized", "GET /openapi.json: the document was not read whole (over 4 MiB)")])
def test_a_broken_or_oversized_document_is_a_note(odd_documents, docker_client, tmp_path, kind, said):
    out = tmp_path / "agent.toml"
    done, left = init(odd_documents[kind], "-o", str(out), client=docker_client)
    assert done.returncode == 0 and not left, done.stderr
    text = out.read_text()
    assert f"# note: {said}" in text and "Traceback" not in done.stderr
    assert [e.label for e in load_config_file(out).endpoints] == ["POST /chat"]


def test_bad_output_paths_are_refused_in_one_line_before_any_container(built_samples, docker_client, tmp_path):
    existing = tmp_path / "agent.toml"
    existing.write_text("mine")
    for args, said in ((["-o", str(existing)], "exists: give another --output, or --force"),
                       (["-o", str(tmp_path / "missing" / "a.toml")], "no such folder"),
                       (["-o", str(tmp_path), "--force"], "is a folder: give a file name")):
        done, left = init(built_samples["reference"].tag, *args, client=docker_client)
        assert done.returncode == 2 and said in done.stderr and len(done.stderr.strip().splitlines()) == 1
        assert not left
    assert existing.read_text() == "mine"


def test_init_starts_the_image_as_the_profiles_platform_does(built_samples, docker_client, tmp_path):
    out = tmp_path / "agent.toml"
    done, left = init(built_samples["azure-foundry"].tag, "-o", str(out), "--profile", "azure-foundry",
                      client=docker_client)
    assert done.returncode == 0 and not left, done.stderr
    text = out.read_text()
    # Served on Foundry's port 8088 (it never answers on the OCI profile's 8080): no document, so
    # the profile's own default endpoint is drafted, and the file names the profile.
    assert "the image did not serve" not in text and "# note: GET /openapi.json answered 404" in text
    config = load_config_file(out)
    assert config.profile == "azure-foundry" and [e.label for e in config.endpoints] == ["POST /responses"]


def test_an_unknown_profile_is_refused_in_one_line(built_samples, docker_client, tmp_path):
    done, left = init(built_samples["reference"].tag, "-o", str(tmp_path / "a.toml"), "--profile", "aws",
                      client=docker_client)
    assert done.returncode == 2 and "unknown profile 'aws'" in done.stderr and not left
