"""The file system the platform gives: read-only but for /tmp. READONLY-ROOTFS: the candidate starts
and serves on it; WRITES-ONLY-TMP: exercised on a writable root, it changes nothing outside /tmp.

A failure is pinned on the read-only root only when the same image, on a writable root, does not
fail the same way (conformance.diagnosis): a 204 from /health is HEALTH-200's, not this."""

from __future__ import annotations

import pytest

from conformance import diagnosis, fsdiff, logcauses
from conformance.candidate import CandidateUnavailable
from conformance.outcome import fail
from conformance.runs import Run

# After the other checks: the runs these judge are made in the background meanwhile.
pytestmark = pytest.mark.late(2)


def _answers(run: Run) -> str:
    bad = len(run.problems)
    return f"{len(run.outcomes) - bad} of {len(run.outcomes)} answers as the contract asks"


def _agent_words(run: Run, image_info) -> list[str]:
    """The log lines that name the refused write, else the last error lines; and the usual fix."""
    said = logcauses.read_only_lines(run.log) or logcauses.error_lines(run.log)
    lines = ["the agent's log:"] + [f"  | {line}" for line in said or run.log[-8:] or ["(empty)"]]
    lines += [f"how to fix: {hint}" for hint in logcauses.read_only_hints(run.log, image_info.start_command)]
    volumes = [v for v in image_info.volumes if any(v in line for line in said)]
    if volumes:
        lines.append(f"{', '.join(volumes)} is a declared VOLUME: the platform mounts no volume there, it is part "
                     "of the read-only root (see IMAGE-NO-VOLUMES)")
    return lines


@pytest.mark.requirement("READONLY-ROOTFS")
def test_starts_and_serves_on_a_read_only_root(lifecycle_runs, image_info, evidence):
    runs = lifecycle_runs
    verdict = diagnosis.judge(runs.runs, diagnosis.READONLY)
    if verdict.status == "undecided":
        raise runs.not_decided()
    strict = runs.runs[verdict.strict]
    relaxed = runs.runs.get(verdict.relaxed)
    if verdict.status == "pass":
        where = ("under the platform's constraints (read-only root, writable /tmp, reserved variables)"
                 if strict.name == "platform" else f"read-only root, writable /tmp, {strict.description}")
        evidence.append(f"{where}: it serves, {_answers(strict)} (probes, every endpoint in JSON and SSE mode)")
        for label in verdict.labels:
            evidence.append(f"{label} {strict.problems[label].problem}"
                            f"{' ' + relaxed.description + ' as well' if relaxed else ''}: not the file system's "
                            "doing (another requirement reports it)")
        survived = logcauses.read_only_lines(strict.log)
        if survived:
            evidence.append("information: the agent logged writes refused by the read-only root, and went on:")
            evidence += [f"  | {line}" for line in survived]
        return
    if verdict.exited:
        fail(f"with a read-only root {strict.failure()}; {relaxed.description} it becomes ready and serves",
             _agent_words(strict, image_info) + [f"{relaxed.description}: {_answers(relaxed)}"])
    details = []
    for label in verdict.labels:
        outcome = strict.problems[label]
        details += [f"{label} {outcome.problem} on the read-only root:", *outcome.answer.evidence()]
        twin = next((o for o in relaxed.outcomes if o.what == label), None)
        if twin is not None:
            details.append(f"{relaxed.description}: {twin.answer.summary()}")
    first = strict.problems[verdict.labels[0]]
    fail(f"{first.what} {first.problem} with a read-only root, not {relaxed.description} "
         f"({len(verdict.labels)} of {len(strict.outcomes)} answers fail only there)",
         details + _agent_words(strict, image_info))


@pytest.mark.requirement("WRITES-ONLY-TMP")
def test_writes_nothing_outside_tmp(lifecycle_runs, image_info, evidence):
    runs = lifecycle_runs
    if not runs.candidate.startup.serving:
        raise runs.not_decided()  # a writable root would not help it serve (see the blamed ID)
    writable = runs.run(runs.writable_name())
    if not writable.served:
        raise CandidateUnavailable(f"{writable.description} {writable.failure()} {runs.see()}")
    # A declared VOLUME is a mount of its own: Docker creates its mount point, the agent does not.
    report = fsdiff.classify(writable.changes, fsdiff.WRITABLE_ROOTS + image_info.volumes)
    evidence.append(f"{writable.description}, after the probes and every endpoint in JSON and SSE mode, "
                    f"`docker diff` shows {len(report.outside) or 'no'} change{'s' if len(report.outside) != 1 else ''} "
                    "outside /tmp" + (":" if report.outside else ""))
    evidence += report.lines()
    if report.bytecode_line():
        evidence.append(report.bytecode_line())
    if image_info.volumes:
        evidence.append(f"declared VOLUME paths are mounts of their own, not seen by `docker diff`: "
                        f"{', '.join(image_info.volumes)} (see IMAGE-NO-VOLUMES)")
    if diagnosis.judge(runs.runs, diagnosis.READONLY).status == "fail":
        # The same writes, seen from the read-only side: reported once, there.
        raise CandidateUnavailable("writes outside /tmp break the read-only root: reported as READONLY-ROOTFS "
                                   "(see READONLY-ROOTFS)")
    if report.outside:
        # The paths are in the evidence above; the failure says what it means.
        fail(f"exercised on a writable root, the container changed {len(report.outside)} path"
             f"{'s' if len(report.outside) != 1 else ''} outside /tmp: {report.outside[0]}",
             ["on the platform these writes fail (read-only root) or vanish with the container: write them "
              "under /tmp, or log to stdout"])
