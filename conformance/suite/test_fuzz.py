"""Generated requests (Hypothesis): odd headers, Accept values, paths, methods and bodies that are
still valid HTTP. Each distinct failure is shrunk to a minimal request and reported as `curl`.
A framing error met while fuzzing is SSE-FRAMING's; everything else is ROBUST-INPUT's."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from conformance.candidate.readiness import StartupState
from conformance.check import NotChecked, fail
from conformance.contract.catalogue import Phase

# `conformance.fuzz.campaign` (Hypothesis with it) is imported by the fixture, not here: collecting
# this module then costs nothing before the first candidate starts (`generation.warm_up`).
if TYPE_CHECKING:
    from conformance.fuzz.campaign import Campaign


@pytest.fixture(scope="session")
def fuzz_campaign(candidate, http, agent_config, budgets, run_context, pytestconfig, run_state, candidates,
                  fuzz_first_round):
    from conformance.fuzz import campaign

    examples = pytestconfig.getoption("fuzz_examples")
    if examples <= 0:
        pytest.skip("fuzzing disabled (--fuzz-examples 0)")
    fresh = []

    def respawn():
        """A fresh candidate like the checks' one, when the campaign must send again one at a time."""
        made = candidates.make(candidate.constraints, check="fuzz-replay")
        fresh.append(made)
        made.start()
        startup = made.wait_ready(budgets.startup_s)
        if startup.state != StartupState.READY:
            raise NotChecked(f"it did not become ready: {startup.cause()}")
        return made

    try:
        found = campaign.run_campaign(
            candidate, agent_config, budgets=budgets, health_path=run_context.profile.liveness.path,
            max_examples=examples, seed=fuzz_first_round.seed, cap_s=budgets.fuzz_s, progress=run_state.progress,
            concurrency=budgets.fuzz_concurrency, respawn=respawn, pregenerated=fuzz_first_round.take(),
        )
    finally:
        run_state.progress.done()
        for made in fresh:
            made.remove()
    run_state.measurements.fuzz(found.tally)
    return found


def _report(findings: Campaign, requirement: str, evidence: list[str], user_url: str) -> None:
    evidence.append(findings.summary())
    found = findings.for_requirement(requirement)
    if found:
        causes = "; ".join(f.key for f in found)
        fail(f"{len(found)} distinct failure(s) among generated requests: {causes}",
             [line for f in found for line in f.evidence(user_url)] + [findings.summary()])


@pytest.mark.requirement("ROBUST-INPUT")
def test_generated_requests_are_handled(fuzz_campaign, requirement_id, evidence, platform):
    _report(fuzz_campaign, requirement_id, evidence, platform.user_url)


@pytest.mark.requirement("SSE-FRAMING", phase=Phase.FUZZ)  # with the campaign, not with the other framing check
def test_streams_met_while_fuzzing_are_well_formed(fuzz_campaign, requirement_id, evidence, platform):
    _report(fuzz_campaign, requirement_id, evidence, platform.user_url)
