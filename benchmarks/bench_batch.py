"""Benchmark (not a test): how many images a host judges per minute with `agent-conformance batch`
at --jobs 1, 2 and 4, against the shell loop a team would otherwise write
(`for image in …; do agent-conformance "$image" --certify …; done`).

    .venv/bin/python benchmarks/bench_batch.py [--images 20] [--jobs 1 2 4] [--image REF] [--no-loop]

The images are one reference-like sample under distinct tags (removed afterwards), so every run
does the same work and every verdict must be `pass`: a verdict that changes under load is printed,
and makes the figure worthless. Each mode starts from an empty output folder (nothing resumed).
Goal (issue 24): twenty reference-like images in at most 60 s on 2 cores; a loop takes about 120 s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import docker

REFERENCE = "agent-conformance/sample-reference:latest"
TAG = "agent-conformance/bench-batch-{i:02d}:latest"
RUN_CAP_S = 1800


def tagged(client: docker.DockerClient, source: str, count: int) -> list[str]:
    image = client.images.get(source)
    refs = [TAG.format(i=i) for i in range(count)]
    for ref in refs:
        repository, tag = ref.rsplit(":", 1)
        image.tag(repository, tag)
    return refs


def untag(client: docker.DockerClient, refs: list[str]) -> None:
    for ref in refs:
        try:
            client.images.remove(ref, noprune=True)  # the tag only: the image keeps its own
        except docker.errors.DockerException:
            pass


def shell_loop(refs: list[str], out: Path, scan: Path) -> tuple[float, dict[str, str]]:
    script = ('for image in "$@"; do "$PYTHON" -m conformance.cli "$image" -q --vuln-report "$SCAN" '
              '--certify "$OUT/$(printf %s "$image" | tr -c "A-Za-z0-9._-" _)" >/dev/null; done')
    started = time.monotonic()
    subprocess.run(["bash", "-c", script, "loop", *refs],
                   env={**os.environ, "PYTHON": sys.executable, "OUT": str(out), "SCAN": str(scan)},
                   timeout=RUN_CAP_S, check=False)
    took = time.monotonic() - started
    return took, {ref: _verdict(out / _folder(ref)) for ref in refs}


def batch(refs: list[str], out: Path, jobs: int, scan: Path) -> tuple[float, dict[str, str]]:
    listing = out.parent / f"{out.name}.toml"
    listing.write_text("".join(f'[[image]]\nref = "{ref}"\nvuln_report = "{scan}"\n\n' for ref in refs))
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "conformance.cli", "batch", str(listing), "--out", str(out),
                    "--jobs", str(jobs)], stdout=subprocess.DEVNULL, timeout=RUN_CAP_S, check=False)
    took = time.monotonic() - started
    return took, {ref: _verdict(out / _folder(ref)) for ref in refs}


def _folder(ref: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in ref)


def _verdict(bundle: Path) -> str:
    try:
        return json.loads((bundle / "report.json").read_text())["verdict"]
    except (OSError, ValueError, KeyError):
        return "none"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--image", default=REFERENCE, help="the reference-like image to tag N times")
    parser.add_argument("--no-loop", action="store_true", help="skip the shell loop")
    args = parser.parse_args()
    client = docker.from_env(timeout=60)
    refs = tagged(client, args.image, args.images)
    work = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    # A clean scanner report of the image: a certification without one is `incomplete`, not `pass`.
    scan = work / "trivy.json"
    scan.write_text(json.dumps({"SchemaVersion": 2, "ArtifactName": args.image, "ArtifactType": "container_image",
                                "Metadata": {"ImageID": client.images.get(args.image).id, "RepoDigests": []},
                                "Results": []}))
    rows = []
    try:
        modes = ([("shell loop", None)] if not args.no_loop else []) + [(f"batch --jobs {j}", j) for j in args.jobs]
        for label, jobs in modes:
            out = work / label.replace(" ", "_").replace("-", "")
            took, verdicts = shell_loop(refs, out, scan) if jobs is None else batch(refs, out, jobs, scan)
            wrong = {ref: v for ref, v in verdicts.items() if v != "pass"}
            rows.append((label, took, len(refs) * 60 / took, wrong))
            print(f"{label:<16} {took:7.1f} s  {len(refs) * 60 / took:5.1f} images/min"
                  + (f"  VERDICTS CHANGED: {wrong}" if wrong else "  every verdict pass"), flush=True)
    finally:
        untag(client, refs)
        shutil.rmtree(work, ignore_errors=True)
    print(f"\n{len(refs)} × {args.image} on {os.cpu_count()} cores")
    print("| mode | wall time | images/min | verdicts |\n|---|---|---|---|")
    for label, took, rate, wrong in rows:
        print(f"| {label} | {took:.0f} s | {rate:.1f} | {'all pass' if not wrong else f'{len(wrong)} changed'} |")


if __name__ == "__main__":
    main()
