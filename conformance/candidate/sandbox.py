"""The isolation of a candidate: the suite runs images it does not trust.

Docker's defaults hold wherever they are already tight, and are tightened where an HTTP agent needs
less: never privileged; no new privileges (a setuid binary cannot raise them); capabilities an
HTTP server never uses dropped (the rest of Docker's default set stays: entrypoints that switch
user need SETUID/SETGID/CHOWN, as on the platform); memory (no swap), CPU and processes limited by
the budgets; a bounded log on the host's disk; no host path mounted, never the Docker socket.

Outbound network is open, as on the platform. With `--no-egress` the candidate runs on an internal
network of the run's own: no route to other networks or the internet. Docker publishes no port from
an internal network, so the suite reaches the candidate at its address there (see
`Candidate.address`). Docker does not filter traffic from an internal network to the host's own
addresses: the Docker host stays reachable.
"""

from __future__ import annotations

import docker
import docker.errors
import requests.exceptions
from docker.types import LogConfig

from ..contract.agent_config import Budgets
from ..errors import InfrastructureError
from .engine import first_line

# Of Docker's default set: raw sockets, device nodes, audit writes, chroot and file capabilities.
DROPPED_CAPABILITIES = ("NET_RAW", "MKNOD", "AUDIT_WRITE", "SYS_CHROOT", "SETFCAP")
# A flooded log is rotated, not kept whole: at most 2 × 8 MB on the host per candidate.
LOG_CONFIG = LogConfig(type=LogConfig.types.JSON, config={"max-size": "8m", "max-file": "2"})
DEFAULT_NETWORK = "bridge"


def container_kwargs(budgets: Budgets, network: str | None) -> dict:
    """The docker-py `containers.run/create` arguments that confine a candidate."""
    memory = f"{int(budgets.memory_mib * 1024)}k"
    return {
        "privileged": False,
        "security_opt": ["no-new-privileges"],
        "cap_drop": list(DROPPED_CAPABILITIES),
        "mem_limit": memory,
        "memswap_limit": memory,  # equal: no swap on top
        "pids_limit": budgets.pids,
        "nano_cpus": int(budgets.cpus * 1e9),
        "log_config": LOG_CONFIG,
        "network": network or DEFAULT_NETWORK,
    }


def no_egress_network(run_id: str) -> str:
    """The internal network of a run (the same name in every xdist worker)."""
    return f"agent-conformance-{run_id[:12]}-no-egress"


def create_no_egress_network(client: docker.DockerClient, run_id: str, labels: dict[str, str]) -> str:
    """Create the run's internal network (removed with the run's containers, by label)."""
    name = no_egress_network(run_id)
    try:
        client.networks.create(name, driver="bridge", internal=True, labels=labels, check_duplicate=True)
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        raise InfrastructureError(f"could not create the internal network for --no-egress: {first_line(exc)}") from None
    return name
