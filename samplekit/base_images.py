"""Base images for building the sample agents where no registry is reachable.

`python:3.11-slim` cannot be pulled here, so an equivalent is made locally: Debian bookworm by
mmdebstrap or debootstrap (`debian_base`) with Python 3.11 in a venv on PATH (`python`, `pip` as in the official image), then a
second layer holding a wheelhouse downloaded on the host, with pip pointed at it
(`PIP_NO_INDEX`, `PIP_FIND_LINKS`) because HTTPS from inside a container does not verify here.
Sample Dockerfiles take the base as `ARG BASE`, so they build unchanged `FROM python:3.11-slim`
where a registry is available.

The samples under a folder named in `OWN_BASES` (`frameworks/`: agents made with the platforms' own
SDKs) get a base of their own, from a wheelhouse of their own: those SDKs bring dependency trees
that every other sample's base has no use for, and a change to one of them rebuilds only them.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

import docker
import docker.errors

from conformance.errors import InfrastructureError

from . import debian_base
from .debian_base import DEBIAN_IMAGE

BASE_IMAGE = "agent-conformance/python:3.11-local"
UV_IMAGE = "agent-conformance/uv:local"
WHEEL_PLATFORM = ["--platform", "manylinux2014_x86_64", "--python-version", "3.11", "--implementation", "cp"]
LABEL_WHEELS = "org.agent-conformance.wheelhouse"

# Folder of sample_agents/ → the base image its samples are built on (from `.cache/wheelhouse-FOLDER`).
OWN_BASES = {"frameworks": "agent-conformance/python:3.11-frameworks"}
# What a base adds to the Debian Python image besides the wheelhouse. The frameworks' venv sees the
# user site, as python:3.11-slim's interpreter does: a Dockerfile that installs as a non-root user
# (`adk deploy cloud_run`'s) gets pip's fallback to `~/.local`, not a refusal to write /opt/venv.
_BASE_EXTRA = {"frameworks": "RUN sed -i 's/^include-system-site-packages = false/include-system-site-packages = true/' "
                             "/opt/venv/pyvenv.cfg\n"}


def log(message: str) -> None:
    print(f"[base] {message}", file=sys.stderr, flush=True)


def _exists(client: docker.DockerClient, ref: str) -> docker.models.images.Image | None:
    try:
        return client.images.get(ref)
    except docker.errors.ImageNotFound:
        return None


def _run(argv: list[str], what: str, timeout_s: float, env: dict[str, str] | None = None) -> None:
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s, env=env)
    except FileNotFoundError:
        raise InfrastructureError(f"{what}: `{argv[0]}` is not installed (Debian: apt-get install {argv[0]})") from None
    except subprocess.TimeoutExpired:
        raise InfrastructureError(f"{what}: `{' '.join(argv[:3])} …` did not finish within {timeout_s:.0f} s") from None
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).splitlines()[-15:])
        raise InfrastructureError(f"{what} failed (exit {result.returncode}):\n{tail}")


def ensure_debian_python(client: docker.DockerClient) -> None:
    if _exists(client, DEBIAN_IMAGE):
        return
    try:
        debian_base.build()
    except debian_base.BaseImageError as exc:
        raise InfrastructureError(str(exc)) from None


def group_of(samples_dir: Path, path: Path) -> str | None:
    """The `OWN_BASES` folder `path` (a sample's folder or file) is under, None for the common base."""
    top = path.relative_to(samples_dir).parts[0]
    return top if top in OWN_BASES else None


def requirements_files(samples_dir: Path, group: str | None = None) -> list[Path]:
    """The requirement files of the samples built on `group`'s base (None: the common one):
    `requirements.txt`, which a Dockerfile installs, and `wheelhouse.txt`, for a Dockerfile that
    names its packages in a `pip install` line of its own (as generated Dockerfiles do)."""
    files = sorted([*samples_dir.rglob("requirements.txt"), *samples_dir.rglob("wheelhouse.txt")])
    return [f for f in files if group_of(samples_dir, f) == group]


def base_image(group: str | None) -> str:
    return OWN_BASES[group] if group else BASE_IMAGE


def ensure_wheelhouse(samples_dir: Path, wheelhouse: Path, group: str | None = None) -> str:
    """Download the requirements of `group`'s samples for CPython 3.11 manylinux x86_64 (and uv
    with the common base's); returns a digest of the requirement files so images built from
    another wheelhouse are rebuilt."""
    files = requirements_files(samples_dir, group)
    tail = b"uv" if group is None else _BASE_EXTRA.get(group, "").encode()
    digest = hashlib.sha256(b"".join(f.read_bytes() for f in files) + tail).hexdigest()[:16]
    stamp = wheelhouse / ".stamp"
    if stamp.exists() and stamp.read_text() == digest:
        return digest
    wheelhouse.mkdir(parents=True, exist_ok=True)
    log(f"downloading the wheelhouse into {wheelhouse}")
    argv = [sys.executable, "-m", "pip", "download", "-q", "-d", str(wheelhouse), "--only-binary=:all:", *WHEEL_PLATFORM]
    for f in files:
        _run(argv + ["-r", str(f)], f"pip download for {f}", 600)
    if group is None:
        _run(argv + ["uv"], "pip download uv", 600)
    stamp.write_text(digest)
    return digest


def _context(files: dict[str, bytes | Path], executable: tuple[str, ...] = ()) -> io.BytesIO:
    """An in-memory build context (tar) of name → bytes or file (or directory)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, content in files.items():
            if isinstance(content, Path):
                tar.add(str(content), arcname=name)
            else:
                info = tarfile.TarInfo(name)
                info.size, info.mode = len(content), 0o755 if name in executable else 0o644
                tar.addfile(info, io.BytesIO(content))
    buffer.seek(0)
    return buffer


def _build_from_context(client: docker.DockerClient, context: io.BytesIO, tag: str, labels: dict[str, str]) -> None:
    try:
        client.images.build(fileobj=context, custom_context=True, tag=tag, labels=labels, rm=True, forcerm=True,
                            timeout=900)
    except docker.errors.BuildError as exc:
        tail = "".join(str(x.get("stream", x.get("error", ""))) for x in list(exc.build_log)[-15:])
        raise InfrastructureError(f"building {tag} failed: {exc.msg}\n{tail}") from None


def ensure_base(client: docker.DockerClient, samples_dir: Path, wheelhouse: Path, group: str | None = None) -> str:
    """The base image sample Dockerfiles get as `BASE` offline (`group`'s, else the common one);
    returns its reference."""
    ensure_debian_python(client)
    digest = ensure_wheelhouse(samples_dir, wheelhouse, group)
    tag = base_image(group)
    existing = _exists(client, tag)
    if existing and existing.labels.get(LABEL_WHEELS) == digest:
        return tag
    log(f"building {tag} (wheelhouse {digest})")
    dockerfile = (
        f"FROM {DEBIAN_IMAGE}\n"
        "COPY wheels /wheels\n"
        "ENV PIP_NO_INDEX=1 PIP_FIND_LINKS=/wheels PIP_DISABLE_PIP_VERSION_CHECK=1\n"
        + (_BASE_EXTRA.get(group, "") if group else "")
    ).encode()
    _build_from_context(client, _context({"Dockerfile": dockerfile, "wheels": wheelhouse}), tag,
                        {LABEL_WHEELS: digest})
    return tag


def ensure_uv_image(client: docker.DockerClient, wheelhouse: Path) -> str:
    """A stand-in for `ghcr.io/astral-sh/uv:latest`: the `/uv` binary at the image root."""
    if _exists(client, UV_IMAGE):
        return UV_IMAGE
    wheel, binary = _uv_binary(wheelhouse)
    log(f"building {UV_IMAGE} from {wheel.name}")
    context = _context({"Dockerfile": b"FROM scratch\nCOPY uv /uv\n", "uv": binary}, executable=("uv",))
    _build_from_context(client, context, UV_IMAGE, {})
    return UV_IMAGE


def _uv_binary(wheelhouse: Path) -> tuple[Path, bytes]:
    """The wheelhouse's uv wheel and the `uv` binary inside it."""
    wheel = next(iter(sorted(wheelhouse.glob("uv-*.whl"))), None)
    if wheel is None:
        raise InfrastructureError(f"no uv wheel in {wheelhouse}: run the wheelhouse download first")
    with zipfile.ZipFile(wheel) as archive:
        return wheel, archive.read(next(n for n in archive.namelist() if n.endswith("/scripts/uv")))


def host_uv(wheelhouse: Path) -> Path:
    """The uv binary of the wheelhouse's uv wheel, for the host (x86_64 Linux, as the images)."""
    target = wheelhouse.parent / "uv-host" / "uv"
    if target.exists():
        return target
    _, binary = _uv_binary(wheelhouse)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    partial.write_bytes(binary)
    partial.chmod(0o755)
    partial.replace(target)
    return target


def ensure_uv_cache(project: Path, wheelhouse: Path) -> Path:
    """Fill `project/uvcache` with everything `uv sync --frozen` of `project/uv.lock` needs, so
    that `docker build` can run it offline (`UV_OFFLINE=1`, cache copied into the image).

    Done on the host, which reaches PyPI: wheels for CPython 3.11 on manylinux 2.36 (Debian
    bookworm, the base image's glibc), into a throwaway venv. Redone when uv.lock changes.
    """
    uv = host_uv(wheelhouse)
    cache, stamp = project / "uvcache", project / ".uvcache.stamp"
    digest = hashlib.sha256((project / "uv.lock").read_bytes() + uv.read_bytes()[:1 << 20]).hexdigest()[:16]
    if cache.is_dir() and stamp.exists() and stamp.read_text() == digest:
        return cache
    log(f"filling the uv cache of {project.name} from uv.lock")
    shutil.rmtree(cache, ignore_errors=True)
    python = sys.executable if sys.version_info[:2] == (3, 11) else "3.11"
    with tempfile.TemporaryDirectory(prefix="agent-conformance-uv-") as tmp:
        argv = [str(uv), "sync", "--frozen", "--no-install-project", "--directory", str(project),
                "--python", python, "--python-platform", "x86_64-manylinux_2_36", "--cache-dir", str(cache)]
        # The venv is thrown away: only the cache matters. Never download an interpreter.
        env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(Path(tmp) / "venv"), "UV_PYTHON_DOWNLOADS": "never"}
        _run(argv, f"uv sync for {project.name}", 900, env=env)
    stamp.write_text(digest)
    return cache
