"""The sample agents: discovery, their expected verdicts, and building them offline.

Each sample is a folder under `sample_agents/` with a Dockerfile and an `expected.toml`:

    verdict = "fail"                 # the verdict the suite must give
    fail = ["READY-200"]             # exactly the IDs that must fail
    error = ["READY-JSON"]           # exactly the IDs that must be `error`; "runtime" = every
                                     # requirement that needs a running container (minus the others)
    pass = ["LISTEN-PORT-8080"]      # optional: IDs that must pass

and optionally an `agent.toml` (the agent config the suite runs it with).

    python -m samplekit build [NAME …]   # base image, wheelhouse, then the samples
    python -m samplekit list
"""

from __future__ import annotations

import argparse
import fcntl
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors

from conformance.candidate.engine import connect
from conformance.contract import catalogue
from conformance.errors import InfrastructureError

from . import base_images, debian_base

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLES_DIR = REPO_ROOT / "sample_agents"
WHEELHOUSE = REPO_ROOT / ".cache" / "wheelhouse"  # the common base's; an OWN_BASES folder's is wheelhouse-FOLDER
TAG_PREFIX = "agent-conformance/sample-"
REFERENCE_TAG = TAG_PREFIX + "reference:latest"
STDLIB_TAG = TAG_PREFIX + "stdlib:latest"
MODEL_LATENCY_TAG = TAG_PREFIX + "model-latency:latest"


@dataclass(frozen=True)
class Expected:
    verdict: str
    fail: frozenset[str]
    error: frozenset[str]
    passes: frozenset[str] = frozenset()  # IDs that must pass (optional)


@dataclass(frozen=True)
class Sample:
    name: str  # "reference", "broken/ready-redirect", …
    path: Path
    expected: Expected

    @property
    def tag(self) -> str:
        return TAG_PREFIX + self.name.replace("/", "-") + ":latest"

    @property
    def agent_config(self) -> Path | None:
        path = self.path / "agent.toml"
        return path if path.exists() else None


def load_expected(path: Path) -> Expected:
    data = tomllib.loads(path.read_text())
    fail = frozenset(data.get("fail", []))
    passes = frozenset(data.get("pass", []))
    raw_error = data.get("error", [])
    error = frozenset(catalogue.RUNTIME_IDS) - fail - passes if raw_error == "runtime" else frozenset(raw_error)
    unknown = (fail | error | passes) - set(catalogue.BY_ID)
    if unknown:
        raise ValueError(f"{path}: unknown requirement IDs {sorted(unknown)}")
    if data.get("verdict") not in ("pass", "fail"):
        raise ValueError(f"{path}: verdict must be \"pass\" or \"fail\"")
    return Expected(data["verdict"], fail, error, passes)


def discover(root: Path = SAMPLES_DIR) -> list[Sample]:
    samples = []
    for expected in sorted(root.rglob("expected.toml")):
        folder = expected.parent
        if (folder / "Dockerfile").exists():
            samples.append(Sample(folder.relative_to(root).as_posix(), folder, load_expected(expected)))
    return samples


def _final_stage_platform(dockerfile: str) -> str | None:
    """`FROM --platform=X` of the last stage: BuildKit builds for X; the legacy builder needs it said."""
    stages = re.findall(r"^FROM\s+(?:--platform=(\S+)\s+)?\S+", dockerfile, re.M | re.I)
    return stages[-1] or None if stages else None


def build(client: docker.DockerClient, sample: Sample, base: str, uv_image: str) -> str:
    """Build one sample with the legacy builder (no BuildKit needed); returns the image ID."""
    if (sample.path / "uv.lock").exists():
        # A uv project (the docs' example): its Dockerfile runs `uv sync --frozen` offline from this cache.
        base_images.ensure_uv_cache(sample.path, WHEELHOUSE)
    try:
        image, _ = client.images.build(
            path=str(sample.path), tag=sample.tag, rm=True, forcerm=True, timeout=900,
            buildargs={"BASE": base, "UV_IMAGE": uv_image, "REFERENCE": REFERENCE_TAG, "STDLIB": STDLIB_TAG,
                       "MODEL_LATENCY": MODEL_LATENCY_TAG, "SAMPLES": TAG_PREFIX,
                       "BASE_ARM64": debian_base.image_name("arm64")},
            platform=_final_stage_platform((sample.path / "Dockerfile").read_text()),
        )
    except docker.errors.BuildError as exc:
        tail = "".join(str(x.get("stream", x.get("error", ""))) for x in list(exc.build_log)[-15:])
        raise InfrastructureError(f"building sample {sample.name} failed: {exc.msg}\n{tail}") from None
    return image.id


def build_all(names: list[str] | None = None, root: Path = SAMPLES_DIR, log=print) -> list[Sample]:
    """Build the base images and the samples. One build at a time per checkout: concurrent callers
    (xdist workers, the matrix command, a second shell) wait on a file lock, then find the layers cached."""
    lock_path = REPO_ROOT / ".cache" / "build.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _build_all(names, root, log)


def _ensure_arm64() -> None:
    """QEMU user emulation registered, and the arm64 base image built (once)."""
    script = REPO_ROOT / "scripts" / "qemu-arm64.sh"
    try:
        done = subprocess.run([str(script)], capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        raise InfrastructureError(f"{script} did not finish within 600 s") from None
    if done.returncode != 0:
        raise InfrastructureError(f"arm64 emulation could not be set up ({script}): "
                                  f"{(done.stderr or done.stdout).strip().splitlines()[-1:]}")
    if not debian_base.exists("arm64"):
        try:
            debian_base.build("arm64")
        except debian_base.BaseImageError as exc:
            raise InfrastructureError(str(exc)) from None


def _build_all(names: list[str] | None, root: Path, log) -> list[Sample]:
    # Broken samples are built FROM the conformant ones (top-level folders): those go first, and of
    # those, the ones built FROM another sample (`${SAMPLES}NAME`) after the rest.
    chosen = sorted((s for s in discover(root) if not names or s.name in names),
                    key=lambda s: ("/" in s.name, "${SAMPLES}" in (s.path / "Dockerfile").read_text(), s.name))
    missing = set(names or []) - {s.name for s in chosen}
    if missing:
        raise InfrastructureError(f"no sample named {sorted(missing)}; see `python -m samplekit list`")
    client = connect()
    bases = {None: base_images.ensure_base(client, root, WHEELHOUSE)}
    for group in sorted({base_images.group_of(root, s.path) for s in chosen} - {None}):
        bases[group] = base_images.ensure_base(client, root, WHEELHOUSE.with_name(f"wheelhouse-{group}"), group)
    # The uv stand-in only for the samples that copy it (the docs' example and its kin).
    uses_uv = any("UV_IMAGE" in (s.path / "Dockerfile").read_text() for s in chosen)
    uv_image = base_images.ensure_uv_image(client, WHEELHOUSE) if uses_uv else base_images.UV_IMAGE
    if any("BASE_ARM64" in (s.path / "Dockerfile").read_text() for s in chosen):
        _ensure_arm64()  # the arm64 profile's samples: built and run under QEMU here
    for sample in chosen:
        build(client, sample, bases[base_images.group_of(root, sample.path)], uv_image)
        log(f"built {sample.tag}")
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m samplekit", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    build_cmd = sub.add_parser("build", help="build the base image, the wheelhouse and the sample agents")
    build_cmd.add_argument("names", nargs="*", help="sample names (default: all)")
    sub.add_parser("list", help="list the samples and their expected failing IDs")
    sub.add_parser("suite-image", help="build the suite's own image (the repository's Dockerfile) offline")
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            build_all(args.names, log=lambda m: print(m, file=sys.stderr))
        elif args.command == "suite-image":
            from . import suite_image
            print(suite_image.ensure(docker.from_env(timeout=900)))
        else:
            for s in discover():
                print(f"{s.name:40} {s.tag:60} {s.expected.verdict:4}  fail: {', '.join(sorted(s.expected.fail)) or '-'}")
    except InfrastructureError as exc:
        print(f"samples: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
