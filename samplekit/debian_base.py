"""The Debian bookworm base image with Python 3.11 in a venv on PATH, made without a registry.

Standard library and the `docker` command only, so `scripts/setup.sh` can start it with the
system's Python while the suite's virtualenv is still being made (a fresh machine's first verdict
waits on whichever takes longer, not on both):

    python3 -m samplekit.debian_base        # builds agent-conformance/debian-python:bookworm if absent
    python3 -m samplekit.debian_base --arch arm64   # agent-conformance/debian-python:bookworm-arm64 (linux/arm64)

mmdebstrap when it is installed (about 20 s: apt's parallel downloads, a tarball straight into
`docker import`), else debootstrap (about 40 s, through a folder).

The arm64 variant (`build("arm64")`, `image_name("arm64")`) is the same package set bootstrapped for
arm64, whose maintainer scripts and venv run under QEMU user emulation: `scripts/qemu-arm64.sh` first
(qemu-user-static and an aarch64 binfmt_misc handler with the F flag; mmdebstrap also wants arch-test).
It is imported with `docker import --platform linux/arm64`; Docker 20.10 ignores that platform's
architecture (its daemon writes its own, amd64, into the config, and the Engine API's `fromSrc` with
`platform=` does the same), so the config is then rewritten: `docker save | (patch) | docker load`,
streamed, the layer untouched. Its config then says linux/arm64 and `docker run --platform linux/arm64`,
and `FROM` with `docker build --platform linux/arm64`, use it without asking a registry.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

DEBIAN_IMAGE = "agent-conformance/debian-python:bookworm"
MIRROR = "http://deb.debian.org/debian"
PATH = "/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
PACKAGES = "python3,python3-venv"
_JUNK = ("var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc", "usr/share/man")
_IMPORT = ["docker", "import", "--change", f"ENV PATH={PATH}", "--change", "ENV LANG=C.UTF-8", "-", DEBIAN_IMAGE]
ARCHES = ("amd64", "arm64")
DEBIAN_IMAGE_ARM64 = f"{DEBIAN_IMAGE}-arm64"
_BINFMT_AARCH64 = Path("/proc/sys/fs/binfmt_misc/qemu-aarch64")


class BaseImageError(RuntimeError):
    """The base image could not be made; the message says which step and what it printed."""


def log(message: str) -> None:
    print(f"[base] {message}", file=sys.stderr, flush=True)


def image_name(arch: str = "amd64") -> str:
    """agent-conformance/debian-python:bookworm for amd64, …:bookworm-arm64 for arm64."""
    _check_arch(arch)
    return DEBIAN_IMAGE if arch == "amd64" else f"{DEBIAN_IMAGE}-{arch}"


def exists(arch: str = "amd64") -> bool:
    if arch == "amd64":
        return subprocess.run(["docker", "image", "inspect", DEBIAN_IMAGE], capture_output=True, timeout=60).returncode == 0
    return _platform(image_name(arch)) == f"linux/{arch}"


def build(arch: str = "amd64") -> None:
    _check_arch(arch)
    if arch != "amd64":
        if _platform(image_name(arch)) not in ("", f"linux/{arch}"):
            _check_platform(arch)  # imported earlier, its config not rewritten yet: no need to bootstrap again
            return
        _check_emulation(arch)
    if shutil.which("mmdebstrap"):
        _with_mmdebstrap(arch)
    elif shutil.which("debootstrap"):
        _with_debootstrap(arch)
    else:
        raise BaseImageError("mmdebstrap or debootstrap is needed to build the local base image: "
                             "apt-get install -y mmdebstrap")
    if arch != "amd64":
        _check_platform(arch)


def _check_arch(arch: str) -> None:
    if arch not in ARCHES:
        raise BaseImageError(f"unknown architecture {arch!r}: one of {', '.join(ARCHES)}")


def _check_emulation(arch: str) -> None:
    """arm64 maintainer scripts and `python3 -m venv` run during the build: QEMU must be registered."""
    try:
        status = _BINFMT_AARCH64.read_text()
    except OSError:
        status = ""
    if "enabled" not in status.splitlines() or "F" not in next(
            (line for line in status.splitlines() if line.startswith("flags:")), ""):
        raise BaseImageError(f"building the {arch} base needs QEMU user emulation (an enabled qemu-aarch64 binfmt "
                             f"handler with the F flag): run scripts/qemu-arm64.sh")


def _platform(image: str) -> str:
    """os/architecture from the image's config, "" when there is no such image."""
    result = subprocess.run(["docker", "image", "inspect", "-f", "{{.Os}}/{{.Architecture}}", image],
                            capture_output=True, text=True, timeout=60, check=False)
    return result.stdout.strip() if result.returncode == 0 else ""


def _check_platform(arch: str) -> None:
    """The imported image's config must say linux/<arch>, or `--platform linux/<arch>` will not find it."""
    image, want = image_name(arch), f"linux/{arch}"
    platform = _platform(image)
    if platform and platform != want:
        log(f"{image} was imported as {platform} (this Docker ignores `docker import --platform`): rewriting its config")
        _set_platform(image, arch)
        platform = _platform(image)
    if platform != want:
        raise BaseImageError(f"{image} is {platform or 'missing'!r} after the import, not {want}")


def _set_platform(image: str, arch: str, timeout_s: float = 600) -> None:
    """`docker save image | (config's architecture := arch) | docker load`, streamed; the old image ID removed.

    The layer passes through untouched; only the config (whose digest is the image ID) and manifest.json,
    which names it, change. `docker load` unpacks the whole archive before reading manifest.json, so
    those two can come last.
    """
    old_id = subprocess.run(["docker", "image", "inspect", "-f", "{{.Id}}", image],
                            capture_output=True, text=True, timeout=60, check=False).stdout.strip()
    with tempfile.TemporaryFile() as save_errors:
        saver = subprocess.Popen(["docker", "save", image], stdout=subprocess.PIPE, stderr=save_errors)
        loader = subprocess.Popen(["docker", "load", "-q"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            small: dict[str, bytes] = {}
            with tarfile.open(fileobj=saver.stdout, mode="r|") as source, \
                    tarfile.open(fileobj=loader.stdin, mode="w|", format=tarfile.PAX_FORMAT) as target:
                for member in source:
                    name = member.name
                    if member.isfile() and (name == "manifest.json" or (name.endswith(".json") and "/" not in name)):
                        small[name] = source.extractfile(member).read()
                    elif member.isfile():
                        target.addfile(member, source.extractfile(member))
                    else:
                        target.addfile(member)
                manifest = json.loads(small.pop("manifest.json"))
                if len(manifest) != 1:
                    raise BaseImageError(f"docker save {image}: {len(manifest)} images in manifest.json, expected 1")
                config = json.loads(small.pop(manifest[0]["Config"]))
                config["architecture"] = arch
                config.pop("variant", None)
                config_bytes = json.dumps(config, separators=(",", ":")).encode()
                manifest[0]["Config"] = f"{hashlib.sha256(config_bytes).hexdigest()}.json"
                for name, data in ((manifest[0]["Config"], config_bytes), ("manifest.json", json.dumps(manifest).encode())):
                    info = tarfile.TarInfo(name)
                    info.size, info.mode = len(data), 0o644
                    target.addfile(info, io.BytesIO(data))
        finally:
            saver.stdout.close()
            if loader.stdin and not loader.stdin.closed:
                loader.stdin.close()
            try:
                saver.wait(timeout=timeout_s)
                loaded = loader.stdout.read()  # `docker load -q` prints one line, once the archive is in
                loader.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                saver.kill()
                loader.kill()
                raise BaseImageError(f"docker save | docker load of {image} did not finish within {timeout_s:.0f} s") from None
        save_errors.seek(0)
        if saver.returncode != 0:
            raise BaseImageError(f"docker save {image} failed: {save_errors.read().decode(errors='replace').strip()}")
    if loader.returncode != 0:
        raise BaseImageError(f"docker load failed: {loaded.decode(errors='replace').strip()}")
    if old_id:
        subprocess.run(["docker", "image", "rm", old_id], capture_output=True, timeout=120, check=False)


def _import_argv(arch: str) -> list[str]:
    if arch == "amd64":
        return _IMPORT
    return [*_IMPORT[:2], "--platform", f"linux/{arch}", *_IMPORT[2:-1], image_name(arch)]


def _with_mmdebstrap(arch: str = "amd64") -> None:
    image = image_name(arch)
    log(f"building {image} with mmdebstrap ({'about 20 s' if arch == 'amd64' else 'a few minutes under QEMU'})")
    junk = " ".join(f'"$1"/{path}/*' for path in _JUNK)
    argv = ["mmdebstrap", "--variant=minbase", f"--include={PACKAGES}", "--format=tar",
            '--customize-hook=chroot "$1" python3 -m venv /opt/venv', f"--customize-hook=rm -rf {junk}",
            "bookworm", "-", MIRROR]
    if arch != "amd64":
        argv.insert(1, f"--architectures={arch}")
    _pipe(argv, "mmdebstrap", import_argv=_import_argv(arch))


def _with_debootstrap(arch: str = "amd64") -> None:
    image = image_name(arch)
    log(f"building {image} with debootstrap "
        f"({'about 40 s; mmdebstrap takes half' if arch == 'amd64' else 'several minutes under QEMU'})")
    with tempfile.TemporaryDirectory(prefix="agent-conformance-rootfs-") as tmp:
        root = Path(tmp) / "rootfs"
        arch_args = [] if arch == "amd64" else [f"--arch={arch}"]
        _run(["debootstrap", *arch_args, "--variant=minbase", f"--include={PACKAGES}", "bookworm", str(root), MIRROR],
             "debootstrap")
        _run(["chroot", str(root), "python3", "-m", "venv", "/opt/venv"], "creating /opt/venv")
        for junk in _JUNK:
            shutil.rmtree(root / junk, ignore_errors=True)
        _pipe(["tar", "-C", str(root), "-c", "."], "tar", import_argv=_import_argv(arch))


def _run(argv: list[str], what: str, timeout_s: float = 900) -> None:
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise BaseImageError(f"{what} did not finish within {timeout_s:.0f} s") from None
    if result.returncode != 0:
        raise BaseImageError(f"{what} failed (exit {result.returncode}):\n{_tail(result.stderr or result.stdout)}")


def _pipe(argv: list[str], what: str, timeout_s: float = 900, import_argv: list[str] | None = None) -> None:
    """`argv | docker import …`: the root filesystem as a tar stream becomes the image."""
    with tempfile.TemporaryFile() as errors:
        producer = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=errors)
        try:
            imported = subprocess.run(import_argv or _IMPORT, stdin=producer.stdout, capture_output=True, text=True,
                                      timeout=timeout_s)
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m samplekit.debian_base",
                                     description="Build the local Debian bookworm Python base image if it is absent.")
    parser.add_argument("--arch", choices=ARCHES, default="amd64",
                        help=f"amd64: {DEBIAN_IMAGE} (default); arm64: {DEBIAN_IMAGE_ARM64}, under QEMU "
                             "(scripts/qemu-arm64.sh first)")
    args = parser.parse_args(argv)
    try:
        if not exists(args.arch):
            build(args.arch)
    except (BaseImageError, OSError, subprocess.SubprocessError) as exc:
        print(f"[base] {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
