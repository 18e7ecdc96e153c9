"""The file system the platform gives: read-only but for /tmp. READONLY-ROOTFS: the candidate starts
and serves on it; WRITES-ONLY-TMP: exercised on a writable root, it changes nothing outside /tmp.

A failure is pinned on the read-only root only when the same image, on a writable root, does not
fail the same way (conformance.lifecycle.diagnosis): a 204 from /health is HEALTH-200's, not this."""

from __future__ import annotations

import pytest

from conformance.check import NotChecked, fail, see
from conformance.lifecycle import diagnosis, log_causes, writes
from conformance.lifecycle.variants import Trial


def _answers(trial: Trial) -> str:
    bad = len(trial.problems)
    return f"{len(trial.observations) - bad} of {len(trial.observations)} answers as the contract asks"


def _agent_words(trial: Trial, image_info) -> list[str]:
    """The log lines that name the refused write, else the last error lines; and the usual fix."""
    said = log_causes.read_only_lines(trial.log) or log_causes.error_lines(trial.log)
    lines = ["the agent's log:"] + [f"  | {line}" for line in said or trial.log[-8:] or ["(empty)"]]
    lines += [f"how to fix: {hint}" for hint in log_causes.read_only_hints(trial.log, image_info.start_command)]
    volumes = [v for v in image_info.volumes if any(v in line for line in said)]
    if volumes:
        lines.append(f"{', '.join(volumes)} is a declared VOLUME: the platform mounts no volume there, it is part "
                     f"of the read-only root {see('IMAGE-NO-VOLUMES')}")
    return lines


@pytest.mark.requirement("READONLY-ROOTFS")
def test_starts_and_serves_on_a_read_only_root(lifecycle_trials, image_info, evidence):
    trials = lifecycle_trials
    verdict = diagnosis.judge(trials.trials, diagnosis.READONLY)
    if verdict.status == "undecided":
        raise trials.not_decided()
    strict = trials.trials[verdict.strict]
    relaxed = trials.trials.get(verdict.relaxed)
    if verdict.status == "pass":
        where = ("under the platform's constraints (read-only root, writable /tmp, reserved variables)"
                 if strict.name == "platform" else f"read-only root, writable /tmp, {strict.description}")
        evidence.append(f"{where}: it serves, {_answers(strict)} (probes, every endpoint in JSON and SSE mode)")
        for label in verdict.labels:
            evidence.append(f"{label} {strict.problems[label].problem}"
                            f"{' ' + relaxed.description + ' as well' if relaxed else ''}: not the file system's "
                            "doing (another requirement reports it)")
        survived = log_causes.read_only_lines(strict.log)
        if survived:
            evidence.append("information: the agent logged writes refused by the read-only root, and went on:")
            evidence += [f"  | {line}" for line in survived]
        return
    if verdict.exited:
        fail(f"with a read-only root {strict.failure()}; {relaxed.description} it becomes ready and serves",
             _agent_words(strict, image_info) + [f"{relaxed.description}: {_answers(relaxed)}"])
    details = []
    for label in verdict.labels:
        observation = strict.problems[label]
        details += [f"{label} {observation.problem} on the read-only root:", *observation.answer.evidence()]
        twin = next((o for o in relaxed.observations if o.what == label), None)
        if twin is not None:
            details.append(f"{relaxed.description}: {twin.answer.summary()}")
    first = strict.problems[verdict.labels[0]]
    fail(f"{first.what} {first.problem} with a read-only root, not {relaxed.description} "
         f"({len(verdict.labels)} of {len(strict.observations)} answers fail only there)",
         details + _agent_words(strict, image_info))


@pytest.mark.requirement("WRITES-ONLY-TMP")
def test_writes_nothing_outside_tmp(lifecycle_trials, image_info, platform, evidence):
    trials = lifecycle_trials
    if not trials.candidate.startup.serving:
        raise trials.not_decided()  # a writable root would not help it serve (see the blamed ID)
    writable = trials.trial(trials.writable_name())
    if not writable.served:
        raise NotChecked(f"{writable.description} {writable.failure()} {trials.see()}")
    # A declared VOLUME is a mount of its own: Docker creates its mount point, the agent does not.
    report = writes.classify(writable.changes, platform.writable_paths + image_info.volumes)
    evidence.append(f"{writable.description}, after the probes and every endpoint in JSON and SSE mode, "
                    f"`docker diff` shows {len(report.outside) or 'no'} change{'s' if len(report.outside) != 1 else ''} "
                    "outside /tmp" + (":" if report.outside else ""))
    evidence += report.lines()
    if report.bytecode_line():
        evidence.append(report.bytecode_line())
    if image_info.volumes:
        evidence.append(f"declared VOLUME paths are mounts of their own, not seen by `docker diff`: "
                        f"{', '.join(image_info.volumes)} {see('IMAGE-NO-VOLUMES')}")
    if diagnosis.judge(trials.trials, diagnosis.READONLY).status == "fail":
        # The same writes, seen from the read-only side: reported once, there.
        raise NotChecked(f"writes outside /tmp break the read-only root: reported as {diagnosis.READONLY} "
                         f"{see(diagnosis.READONLY)}")
    if report.outside:
        # The paths are in the evidence above; the failure says what it means.
        fail(f"exercised on a writable root, the container changed {len(report.outside)} path"
             f"{'s' if len(report.outside) != 1 else ''} outside /tmp: {report.outside[0]}",
             ["on the platform these writes fail (read-only root) or vanish with the container: write them "
              "under /tmp, or log to stdout"])
