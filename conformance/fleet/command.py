"""The arguments of `agent-conformance batch` and `agent-conformance summarize`, and what each
prints. Exit status: batch 0 every image passed, 1 any failed, 2 any got no verdict (or a usage
error); summarize 0 written, 2 usage error or nothing to summarize."""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

from ..errors import ConfigError
from ..progress import Progress, terminal_allowed
from . import batch, kubernetes, plan, summary

EXIT_PASS, EXIT_FAIL, EXIT_ERROR = 0, 1, 2
DEFAULT_OUT = "conformance-bundles"
DEFAULT_TIMEOUT_S = 900.0  # a run is bounded by its budgets (a hostile image: about 3 min); a scanner's 600 s on top
DEFAULT_CPUS = 1.0


def _batch_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agent-conformance batch",
        description="Certify many images on this host: each in a run and a bundle of its own (OUT/<image>/), "
                    "several at once; images whose bundle is current are not run again. Ends with the fleet's "
                    "summary in OUT (summary.json, summary.md, index.html).",
        epilog="Arguments after `--` go to every run (e.g. `-- --no-egress`). Exit status: 0 every image passed, "
               "1 any failed or is incomplete, 2 any got no verdict (error, timeout, crash) or a usage error.")
    parser.add_argument("list", metavar="FILE", help="the images: one reference a line, or a TOML list of [[image]] "
                        "tables (ref, agent_config, profile, vuln_report); `-` reads standard input")
    parser.add_argument("--out", default=DEFAULT_OUT, metavar="DIR", help=f"where the bundles go (default {DEFAULT_OUT})")
    parser.add_argument("--jobs", type=_positive_int, metavar="N",
                        help=f"images at once (default {batch.default_jobs()} here: one per core, within memory)")
    parser.add_argument("--timeout", type=_positive_float, default=DEFAULT_TIMEOUT_S, metavar="SECONDS",
                        help=f"cap on one image's run; past it the run is stopped (default {DEFAULT_TIMEOUT_S:g})")
    parser.add_argument("--cpus", type=_positive_float, default=DEFAULT_CPUS, metavar="N",
                        help=f"each candidate container's CPU limit, so that neighbours cannot starve each other "
                             f"(default {DEFAULT_CPUS:g})")
    parser.add_argument("--agent-config", metavar="FILE", help="agent config for the images whose entry names none")
    parser.add_argument("--profile", metavar="NAME", help="contract profile for the images whose entry names none")
    parser.add_argument("--force", action="store_true", help="run every image again, even where its bundle is current")
    parser.add_argument("--index", type=_non_negative_int, metavar="I",
                        help="run only the I-th image of the list (from 0): one job of a CI matrix or a Kubernetes "
                             "Indexed Job; no summary is written")
    emit = parser.add_argument_group("emitting the batch for another engine instead of running it")
    emit.add_argument("--emit", choices=["kubernetes"], help="print the batch as Kubernetes objects (an Indexed Job "
                      "and a summarize Job) for `kubectl apply -f -`")
    emit.add_argument("--name", default=kubernetes.DEFAULT_NAME, help="the Jobs' name, and the bundles' folder on the "
                      f"volume (default {kubernetes.DEFAULT_NAME}; one per fleet run)")
    emit.add_argument("--suite-image", default=kubernetes.DEFAULT_SUITE_IMAGE, metavar="IMAGE",
                      help="the suite's image as the cluster pulls it (the repository's Dockerfile; default "
                           f"{kubernetes.DEFAULT_SUITE_IMAGE})")
    emit.add_argument("--storage", default="2Gi", help="the bundles' volume size (default 2Gi)")
    return parser


def _summarize_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agent-conformance summarize",
        description="Merge certification bundles made anywhere (a batch, CI jobs, Kubernetes pods) into a fleet "
                    "summary: summary.json, summary.md and index.html, the image × requirement grid.",
        epilog="Each DIR is a bundle, or holds bundles up to three folders down. Bundles that do not verify are "
               "listed as such and not counted. Exit status: 0 written, 2 usage error or no bundle found.")
    parser.add_argument("dirs", nargs="+", metavar="DIR")
    parser.add_argument("--out", default="fleet-summary", metavar="DIR", help="where to write (default fleet-summary)")
    parser.add_argument("--expect", metavar="FILE", help="the batch's list: its images without a bundle are listed")
    return parser


def batch_main(argv: list[str], extra: list[str]) -> int:
    args = _batch_parser().parse_args(argv)
    try:
        entries = plan.load(args.list, sys.stdin.read(plan.MAX_LIST_BYTES + 1) if args.list == "-" else None)
        entries = _with_defaults(entries, args)
        if args.index is not None:
            if args.index >= len(entries):
                raise ConfigError(f"--index {args.index}: the list has {len(entries)} images (0 to {len(entries) - 1})")
            entries = [entries[args.index]]
        if args.emit:
            print(kubernetes.emit(entries, name=args.name, suite_image=args.suite_image, storage=args.storage,
                                  parallelism=args.jobs or 4, timeout_s=args.timeout, cpus=args.cpus), end="")
            return EXIT_PASS
    except ConfigError as exc:
        print(f"agent-conformance batch: {exc}", file=sys.stderr)
        return EXIT_ERROR
    out = Path(args.out)
    settings = batch.Settings(out=out, jobs=args.jobs or batch.default_jobs(), timeout_s=args.timeout,
                              cpus=args.cpus, force=args.force, extra=tuple(extra))
    live = Progress(_write_live if terminal_allowed(sys.stdout.isatty(), 0, dict(os.environ), False) else None)
    print(f"agent-conformance batch: {_images(len(entries))}, {min(settings.jobs, len(entries))} at once, "
          f"bundles in {out}/", flush=True)
    started = time.monotonic()
    try:
        outcomes = batch.run(entries, settings, say=lambda text: print(text, flush=True), progress=live, done=live.done)
    except KeyboardInterrupt:
        print("agent-conformance batch: interrupted; the runs under way were stopped and their containers removed",
              file=sys.stderr)
        return EXIT_ERROR
    except OSError as exc:
        print(f"agent-conformance batch: {out}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_ERROR
    counts = {s: sum(o.status == s for o in outcomes) for s in ("pass", "fail", "incomplete")}
    others = len(outcomes) - sum(counts.values())
    tail = f"{_images(len(outcomes))} in {time.monotonic() - started:.0f} s: {counts['pass']} pass, {counts['fail']} fail"
    tail += f", {counts['incomplete']} incomplete (a MUST not checked)" if counts["incomplete"] else ""
    tail += f", {others} without a verdict (see {out}/{batch.RECORDS}/)" if others else ""
    if args.index is None:
        written = summary.write(summary.build([out], out, expected=entries, only=entries), out)
        tail += f"; summary: {written.html}"
    print(tail)
    return batch.exit_status(outcomes, len(entries))


def summarize_main(argv: list[str]) -> int:
    args = _summarize_parser().parse_args(argv)
    roots = [Path(d) for d in args.dirs]
    missing = [str(d) for d in roots if not d.is_dir()]
    if missing:
        print(f"agent-conformance summarize: {missing[0]}: not a directory", file=sys.stderr)
        return EXIT_ERROR
    try:
        expected = plan.load(args.expect) if args.expect else []
    except ConfigError as exc:
        print(f"agent-conformance summarize: --expect {exc}", file=sys.stderr)
        return EXIT_ERROR
    out = Path(args.out)
    document = summary.build(roots, out, expected=expected)
    if not document["totals"]["images"]:
        print(f"agent-conformance summarize: no bundle under {', '.join(args.dirs)}", file=sys.stderr)
        return EXIT_ERROR
    try:
        written = summary.write(document, out)
    except OSError as exc:
        print(f"agent-conformance summarize: {out}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_ERROR
    totals = document["totals"]
    print(f"{totals['images']} images: {totals['pass']} pass, {totals['fail']} fail, {totals['incomplete']} incomplete, "
          f"{totals['unverified']} bundles "
          f"that do not verify, {totals['no_verdict']} without a verdict; {written.html}")
    return EXIT_PASS


def _with_defaults(entries: list[plan.Entry], args: argparse.Namespace) -> list[plan.Entry]:
    config = Path(args.agent_config).resolve() if args.agent_config else None
    if config and not config.is_file():
        raise ConfigError(f"--agent-config {args.agent_config}: not a file")
    return [replace(e, agent_config=e.agent_config or config, profile=e.profile or args.profile) for e in entries]


def _images(count: int) -> str:
    return f"{count} image" + ("" if count == 1 else "s")


def _write_live(text: str) -> None:
    sys.stdout.write(text.lstrip("\n"))  # the line goes where the cursor is: after the last image's line
    sys.stdout.flush()


def _positive_int(text: str) -> int:
    value = _non_negative_int(text)
    if value == 0:
        raise argparse.ArgumentTypeError("expected a positive whole number, got 0")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value
