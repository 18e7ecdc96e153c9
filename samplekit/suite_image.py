"""The suite's own image (the repository's Dockerfile), built offline: FROM the local Python base
with a second wheelhouse holding the suite's dependencies and its build backend. It runs the
suite in a container beside the engine's socket, one of the engine modes the tests prove."""

from __future__ import annotations

import hashlib
import sys
import tomllib
from pathlib import Path

import docker

from . import base_images

SUITE_IMAGE = "agent-conformance/suite:local"
_SUITE_BASE = "agent-conformance/suite-base:local"
_LABEL = "org.agent-conformance.suite-sources"
ROOT = Path(__file__).resolve().parent.parent


def _requirements() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return [*project["build-system"]["requires"], *project["project"]["dependencies"], "wheel"]


def _digest(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for path in paths:
        for f in sorted(p for p in ([path] if path.is_file() else path.rglob("*.py")) if "__pycache__" not in p.parts):
            h.update(str(f.relative_to(ROOT)).encode() + f.read_bytes())
    return h.hexdigest()[:16]


def ensure(client: docker.DockerClient, wheelhouse: Path = ROOT / ".cache" / "wheelhouse-suite") -> str:
    """Build (when its sources changed) and return the suite image's reference."""
    base = base_images.ensure_base(client, ROOT / "sample_agents", ROOT / ".cache" / "wheelhouse")
    wanted = _requirements()
    stamp = wheelhouse / ".stamp"
    wheel_digest = hashlib.sha256("\n".join(wanted).encode()).hexdigest()[:16]
    if not (stamp.exists() and stamp.read_text() == wheel_digest):
        wheelhouse.mkdir(parents=True, exist_ok=True)
        base_images.log(f"downloading the suite's wheelhouse into {wheelhouse}")
        base_images._run([sys.executable, "-m", "pip", "download", "-q", "-d", str(wheelhouse), "--only-binary=:all:",
                          *base_images.WHEEL_PLATFORM, *wanted], "pip download (the suite's dependencies)", 600)
        stamp.write_text(wheel_digest)
    sources = [ROOT / "pyproject.toml", ROOT / "README.md", ROOT / "Dockerfile", ROOT / "conformance"]
    digest = f"{wheel_digest}-{_digest(sources)}"
    existing = base_images._exists(client, SUITE_IMAGE)
    if existing and existing.labels.get(_LABEL) == digest:
        return SUITE_IMAGE
    base_images.log(f"building {SUITE_IMAGE}")
    base_images._build_from_context(client, base_images._context({
        "Dockerfile": (f"FROM {base}\nCOPY suite-wheels /suite-wheels\n"
                       "ENV PIP_FIND_LINKS=\"/wheels /suite-wheels\"\n").encode(),
        "suite-wheels": wheelhouse}), _SUITE_BASE, {})
    files: dict = {"Dockerfile": (ROOT / "Dockerfile").read_bytes(), "pyproject.toml": ROOT / "pyproject.toml",
                   "README.md": ROOT / "README.md", "conformance": ROOT / "conformance"}
    client.images.build(fileobj=base_images._context(files), custom_context=True, tag=SUITE_IMAGE,
                        buildargs={"BASE": _SUITE_BASE}, labels={_LABEL: digest}, rm=True, forcerm=True, timeout=900)
    return SUITE_IMAGE
