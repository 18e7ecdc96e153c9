"""`agent-conformance IMAGE [options]`: the conformance suite as a command.

Exit status: 0 verdict pass, 1 verdict fail, 2 usage or infrastructure error (no Docker daemon,
image not found, bad agent config, run interrupted).
"""

from __future__ import annotations

import argparse
import atexit
import os
import sys
from pathlib import Path
from typing import NoReturn

from . import __version__, options
from .contract import profile
from .errors import ConfigError, InfrastructureError
from .startup_gc import StartupPause, resumed_by
from .startup_imports import skip_httpx_cli

# Not imported from the plugin: importing it here would load httpx and Hypothesis before pytest
# does, and pytest then warns that it cannot rewrite their assertions.
SUITE_DIR = Path(__file__).parent / "suite"

EXIT_PASS, EXIT_FAIL, EXIT_ERROR = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agent-conformance",
        description="Start an agent image as OCI Generative AI Hosted Deployments would and check it against "
        "the platform's runtime contract, requirement by requirement.",
        epilog="Arguments after `--` go to pytest (e.g. `-- -n 2 -k READY`). "
        "Exit status: 0 verdict pass, 1 verdict fail, 2 usage or infrastructure error. "
        "`agent-conformance init IMAGE` drafts an agent.toml from the image's OpenAPI document; "
        "`agent-conformance verify DIR [--key PUB] [--image REF] [--max-age DAYS] [--min-suite VERSION]` checks "
        "a certification bundle; `agent-conformance diff A B` compares two runs (bundles or report.json files); "
        "`agent-conformance matrix [NAME …]` builds the bundled sample agents and checks each gets its "
        "expected verdict (see `agent-conformance matrix --help`); `agent-conformance batch FILE` certifies many "
        "images and `agent-conformance summarize DIR…` merges their bundles (see their --help).",
    )
    parser.add_argument("image", nargs="?", help="local image reference, e.g. myagent:v1 (never pulled)")
    options.add_all(parser.add_argument, plugin=False)
    parser.add_argument("--list-requirements", action="store_true", help="print the requirement catalogue and exit")
    parser.add_argument("-q", "--quiet", action="store_true", help="only the verdict table")
    parser.add_argument("--version", action="version", version=f"agent-conformance {__version__}")
    return parser


def list_requirements(profile_name: str | None = None) -> str:
    """The catalogue, a line per ID and a line per check that decides it (file and function);
    with a profile, that profile's, each rule with its source."""
    from .suite import checks_by_id  # the checks' modules: only for this listing

    checks = checks_by_id()
    if not profile_name:
        rows = profile.load(profile.DEFAULT).requirements()  # the catalogue, in the default platform's words
        width = max(len(r.id) for r in rows)
        lines = []
        for r in rows:
            lines.append(f"{r.id:<{width}}  {r.level:<6}  {r.title}")
            lines += [f"{'':<{width}}  check: {check}" for check in checks.get(r.id, ["none (not implemented)"])]
        return "\n".join(lines)
    contract = profile.load(profile_name)
    rows = contract.requirements()
    width = max(len(r.id) for r in rows)
    lines = [f"# {contract.label()}: {len(rows)} requirements "
             f"({sum(r.level == 'MUST' for r in rows)} MUST, {sum(r.level == 'SHOULD' for r in rows)} SHOULD); "
             f"{contract.url}"]
    for r in rows:
        url = contract.rules[r.id].url
        lines += [f"{r.id:<{width}}  {r.level:<6}  {r.title}", f"{'':<{width}}  source: {r.source}" + (f" ({url})" if url else "")]
        lines += [f"{'':<{width}}  check: {check}" for check in checks.get(r.id, ["none (not implemented)"])]
    return "\n".join(lines)


UNUSED_PLUGINS = ("anyio", "hypothesispytest", "xdist.looponfail")


def pytest_args(args: argparse.Namespace, extra: list[str]) -> list[str]:
    # --assert=plain: the checks decide with fail() and evidence, never a bare assert, so rewriting
    # the assertions of every module pytest imports buys nothing here (it cost 0.45 s of each run,
    # and a warning under `python -m conformance.cli`).
    argv = [str(SUITE_DIR), f"--image={args.image}", "-p", "no:cacheprovider", "--assert=plain",
            f"--rootdir={SUITE_DIR}", "-c", str(SUITE_DIR / "pytest.ini")]
    # Plugins the checks do not use, installed beside the suite (its campaign calls Hypothesis
    # itself; no check is async): anyio's looks for event loops at start-up, 0.1 s of CPU a run.
    argv += [arg for name in UNUSED_PLUGINS for arg in ("-p", f"no:{name}")]
    argv += options.forwarded(args)
    argv += ["-q", "--no-header", "-rN", "--tb=no"] if args.quiet else ["-rfE", "--tb=short"]
    return argv + extra


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:
        split = argv.index("--")
        argv, extra = argv[:split], argv[split + 1 :]
    if argv[:1] == ["matrix"]:  # a subcommand; an image named "matrix" is still `matrix:latest`
        return _matrix(argv[1:], extra)
    if argv[:1] == ["init"]:  # likewise: an image named "init" is `init:latest`
        return _init(argv[1:])
    if argv[:1] in (["verify"], ["diff"]):  # the certifier's commands (and likewise for images so named)
        from . import review

        return review.verify_main(argv[1:]) if argv[0] == "verify" else review.diff_main(argv[1:])
    if argv[:1] in (["batch"], ["summarize"]):  # many images: above the runs (conformance.fleet)
        from .fleet import command

        return command.batch_main(argv[1:], extra) if argv[0] == "batch" else command.summarize_main(argv[1:])
    parser = _parser()
    args = parser.parse_args(argv)
    if args.list_requirements:
        try:
            print(list_requirements(args.profile))
        except ConfigError as exc:
            print(f"agent-conformance: {exc}", file=sys.stderr)
            return EXIT_ERROR
        return EXIT_PASS
    if not args.image:
        parser.print_usage(sys.stderr)
        print("agent-conformance: error: give the image to check, e.g. `agent-conformance myagent:v1`", file=sys.stderr)
        return EXIT_ERROR
    # A bad agent config is refused by the plugin before any container starts (exit 2, report written).
    start_up = StartupPause()
    start_up.pause()  # from before pytest is imported (0.1 s of the start-up's collections)
    skip_httpx_cli()
    try:
        import pytest

        code = pytest.main(pytest_args(args, extra), plugins=[resumed_by(start_up)])
    finally:
        start_up.resume()
    return {pytest.ExitCode.OK: EXIT_PASS, pytest.ExitCode.TESTS_FAILED: EXIT_FAIL}.get(code, EXIT_ERROR)


def _init(argv: list[str]) -> int:
    """`agent-conformance init IMAGE`: an agent.toml drafted from what the image serves."""
    parser = argparse.ArgumentParser(
        prog="agent-conformance init",
        description="Start the image once and write an agent.toml to edit: the endpoints of its OpenAPI document "
                    "(/openapi.json) with example bodies from their schemas, else the platform's default POST /chat.",
        epilog="Exit status: 0 written, 2 usage or infrastructure error.")
    parser.add_argument("image", help="local image reference (never pulled)")
    parser.add_argument("-o", "--output", default="agent.toml", metavar="FILE", help="where to write (default agent.toml)")
    parser.add_argument("--force", action="store_true", help="replace FILE if it exists")
    parser.add_argument("--profile", metavar="NAME", help="start the image as this platform does (its port, filesystem, "
                        "variables) and name the profile in the file (default: oci-hosted)")
    args = parser.parse_args(argv)
    from .draft_config import draft  # Docker and httpx: only for this subcommand

    try:
        lines = draft(args.image, Path(args.output), force=args.force,
                      profile=profile.load(args.profile) if args.profile else None)
    except (InfrastructureError, ConfigError) as exc:
        print(f"agent-conformance init: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("agent-conformance init: interrupted (its container was removed)", file=sys.stderr)
        return EXIT_ERROR
    print("\n".join(lines))
    return EXIT_PASS


def _matrix(argv: list[str], extra: list[str]) -> int:
    """`agent-conformance matrix`: the bundled samples live in a checkout of the repository, beside
    the sample tools (`samplekit`, not part of what a user installs)."""
    checkout = Path(__file__).resolve().parents[1]
    if not (checkout / "samplekit" / "matrix.py").exists():
        print("agent-conformance matrix: the sample agents are not installed with the suite; run it from a checkout "
              "of the repository", file=sys.stderr)
        return EXIT_ERROR
    if str(checkout) not in sys.path:
        sys.path.insert(0, str(checkout))
    from samplekit import matrix

    return matrix.main(argv, extra)


def run() -> NoReturn:
    """The console script: `main`, then out at once. By then every report is written and every
    container removed; what is left is the interpreter's teardown of the 1,500 modules a run
    imports (0.1–0.2 s of every run), which nothing needs: the exit handlers run, the streams are
    flushed, and the process ends."""
    code = main()
    atexit._run_exitfuncs()  # what an ordinary exit runs first (thread pools, child processes, logging)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
