"""The Debian bookworm base image with Python 3.11 in a venv on PATH, made without a registry.

Standard library and the `docker` command only, so `scripts/setup.sh` can start it with the
system's Python while the suite's virtualenv is still being made (a fresh machine's first verdict
waits on whichever takes longer, not on both):

    python3 -m samplekit.debian_base        # builds agent-conformance/debian-python:bookworm if absent

mmdebstrap when it is installed (about 20 s: apt's parallel downloads, a tarball straight into
`docker import`), else debootstrap (about 40 s, through a folder).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

DEBIAN_IMAGE = "agent-conformance/debian-python:bookworm"
MIRROR = "http://deb.debian.org/debian"
PATH = "/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
PACKAGES = "python3,python3-venv"
_JUNK = ("var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc", "usr/share/man")
_IMPORT = ["docker", "import", "--change", f"ENV PATH={PATH}", "--change", "ENV LANG=C.UTF-8", "-", DEBIAN_IMAGE]


class BaseImageError(RuntimeError):
    """The base image could not be made; the message says which step and what it printed."""


def log(message: str) -> None:
    print(f"[base] {message}", file=sys.stderr, flush=True)


def exists() -> bool:
    return subprocess.run(["docker", "image", "inspect", DEBIAN_IMAGE], capture_output=True, timeout=60).returncode == 0


def build() -> None:
    if shutil.which("mmdebstrap"):
        _with_mmdebstrap()
    elif shutil.which("debootstrap"):
        _with_debootstrap()
    else:
        raise BaseImageError("mmdebstrap or debootstrap is needed to build the local base image: "
                             "apt-get install -y mmdebstrap")


def _with_mmdebstrap() -> None:
    log(f"building {DEBIAN_IMAGE} with mmdebstrap (about 20 s)")
    junk = " ".join(f'"$1"/{path}/*' for path in _JUNK)
    argv = ["mmdebstrap", "--variant=minbase", f"--include={PACKAGES}", "--format=tar",
            '--customize-hook=chroot "$1" python3 -m venv /opt/venv', f"--customize-hook=rm -rf {junk}",
            "bookworm", "-", MIRROR]
    _pipe(argv, "mmdebstrap")


def _with_debootstrap() -> None:
    log(f"building {DEBIAN_IMAGE} with debootstrap (about 40 s; mmdebstrap takes half)")
    with tempfile.TemporaryDirectory(prefix="agent-conformance-rootfs-") as tmp:
        root = Path(tmp) / "rootfs"
        _run(["debootstrap", "--variant=minbase", f"--include={PACKAGES}", "bookworm", str(root), MIRROR], "debootstrap")
        _run(["chroot", str(root), "python3", "-m", "venv", "/opt/venv"], "creating /opt/venv")
        for junk in _JUNK:
            shutil.rmtree(root / junk, ignore_errors=True)
        _pipe(["tar", "-C", str(root), "-c", "."], "tar")


def _run(argv: list[str], what: str, timeout_s: float = 900) -> None:
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise BaseImageError(f"{what} did not finish within {timeout_s:.0f} s") from None
    if result.returncode != 0:
        raise BaseImageError(f"{what} failed (exit {result.returncode}):\n{_tail(result.stderr or result.stdout)}")


def _pipe(argv: list[str], what: str, timeout_s: float = 900) -> None:
    """`argv | docker import …`: the root filesystem as a tar stream becomes the image."""
    with tempfile.TemporaryFile() as errors:
        producer = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=errors)
        try:
            imported = subprocess.run(_IMPORT, stdin=producer.stdout, capture_output=True, text=True, timeout=timeout_s)
        finally:
            producer.stdout.close()
            try:
                producer.wait(timeout=60)
            except subprocess.TimeoutExpired:
                producer.kill()
                producer.wait()
        errors.seek(0)
        if producer.returncode != 0:
            raise BaseImageError(f"{what} failed (exit {producer.returncode}):\n{_tail(errors.read().decode(errors='replace'))}")
    if imported.returncode != 0:
        raise BaseImageError(f"docker import failed: {imported.stderr.strip()}")


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.splitlines()[-lines:])


def main() -> int:
    try:
        if not exists():
            build()
    except (BaseImageError, OSError, subprocess.SubprocessError) as exc:
        print(f"[base] {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
