"""A candidate runs confined (conformance.candidate.sandbox), on real containers: what Docker was told, what
the process inside sees, and --no-egress cutting it off from other networks while the suite still
reaches it."""

from __future__ import annotations

import uuid

import pytest

from conformance.candidate import sandbox
from conformance.candidate.container import Candidate
from conformance.candidate.engine import inspect_image
from conformance.candidate.labels import LABEL, LABEL_OWNER, LABEL_RUN, remove_labelled
from conformance.contract.agent_config import Budgets
from conformance.lifecycle import variants
from tests.helpers import leftovers

CAP_NET_RAW = 13


@pytest.fixture
def make(built_samples, docker_client):
    """Candidates of the reference agent under one run ID; everything of the run is removed after."""
    image = inspect_image(docker_client, built_samples["reference"].tag)
    run_id = f"isolation-{uuid.uuid4().hex[:8]}"
    owner = f"isolation-test:{run_id}"

    def start(network: str | None = None, budgets: Budgets | None = None, profile="platform") -> Candidate:
        candidate = Candidate(docker_client, image, run_id, variants.constraints_for(profile), owner=owner,
                              budgets=budgets, internal_network=network)
        return candidate.start()

    start.labels = {LABEL: "true", LABEL_RUN: run_id, LABEL_OWNER: owner}
    start.run_id = run_id
    yield start
    remove_labelled(docker_client, {LABEL_RUN: run_id})
    assert leftovers(docker_client, owner) == []


def test_a_candidate_gets_no_privilege_and_its_budgets(make):
    candidate = make(budgets=Budgets(memory_mib=256, pids=100, cpus=0.5))
    host = candidate.reload()["HostConfig"]
    assert host["Privileged"] is False and host["SecurityOpt"] == ["no-new-privileges"]
    assert set(sandbox.DROPPED_CAPABILITIES) <= set(host["CapDrop"]) and not host.get("CapAdd")
    assert host["Memory"] == host["MemorySwap"] == 256 << 20 and host["PidsLimit"] == 100
    assert host["NanoCpus"] == 500_000_000
    assert host["LogConfig"] == {"Type": "json-file", "Config": {"max-size": "8m", "max-file": "2"}}
    assert not host.get("Binds") and all(m["Type"] != "bind" for m in candidate.reload()["Mounts"])
    assert {b["HostIp"] for b in host["PortBindings"]["8080/tcp"]} == {"127.0.0.1"}
    status = candidate.container.exec_run(["cat", "/proc/1/status"]).output.decode()
    fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
    assert fields["NoNewPrivs"].strip() == "1"
    assert not int(fields["CapEff"], 16) >> CAP_NET_RAW & 1
    assert not candidate.container.exec_run(["test", "-e", "/var/run/docker.sock"]).exit_code == 0


CONNECT = "import socket, sys; socket.create_connection((sys.argv[1], 8080), timeout=2); print('connected')"


def test_no_egress_cuts_the_candidate_off_yet_the_suite_reaches_it(make, docker_client):
    network = sandbox.create_no_egress_network(docker_client, make.run_id, make.labels)
    outside = make()  # a server on Docker's default network: somewhere the candidate could reach
    open_candidate = make()
    closed = make(network=network)

    assert closed.wait_ready(30).state == "ready"  # reached at its own address: nothing is published
    host, port = closed.address()
    assert port == 8080 and host != "127.0.0.1" and not closed.reload()["NetworkSettings"]["Ports"]
    target = outside.ip_address()
    assert open_candidate.container.exec_run(["python", "-c", CONNECT, target]).exit_code == 0
    refused = closed.container.exec_run(["python", "-c", CONNECT, target])
    assert refused.exit_code != 0 and b"connected" not in refused.output
