"""Every container, volume and network the suite makes carries its labels, so whatever a run
leaves behind is found and removed: by run at the end of the run (also on failure and Ctrl-C), and
by owner when the run that made it is gone (killed: the next run on this host reaps it)."""

from __future__ import annotations

import os
import socket

import docker
import docker.errors
import requests.exceptions

from ..errors import InfrastructureError
from .engine import first_line

LABEL = "org.agent-conformance"
LABEL_RUN = "org.agent-conformance.run"
LABEL_OWNER = "org.agent-conformance.owner"
LABEL_ROLE = "org.agent-conformance.role"


def owner_host() -> str:
    """This host and PID namespace (`host@pidns`): a PID means something only within one namespace,
    and runs in other namespaces (containers beside the same socket, Docker Desktop's users of one
    VM) share the engine: their containers are theirs to remove."""
    try:
        namespace = os.readlink("/proc/self/ns/pid").strip("pid:[]")
    except OSError:
        namespace = "?"
    return f"{socket.gethostname()}@{namespace}"


def owner_id(pid: int | None = None) -> str:
    """`host@pidns:pid` of this process: whose containers they are, and whether that run is still alive."""
    return f"{owner_host()}:{os.getpid() if pid is None else pid}"


def run_labels(run_id: str, owner: str, **more: str) -> dict[str, str]:
    return {LABEL: "true", LABEL_RUN: run_id, LABEL_OWNER: owner, **more}


def labelled(client: docker.DockerClient, label_filters: list[str]) -> tuple[list[dict], list[dict], list[dict]]:
    """The containers, volumes and networks carrying all these labels (the API's raw listings)."""
    # Low-level listings: the high-level ones inspect each object and race with concurrent removals.
    filters = {"label": label_filters}
    containers = client.api.containers(all=True, filters=filters)
    volumes = client.api.volumes(filters=filters).get("Volumes") or []
    networks = client.api.networks(filters=filters)
    return containers, volumes, networks


def remove_labelled(client: docker.DockerClient, filters: dict[str, str]) -> int:
    """Remove every container, volume and network carrying these labels (networks last: they
    cannot go while a container is attached); returns the number of containers."""
    removed = 0
    try:
        containers, volumes, networks = labelled(client, [f"{k}={v}" for k, v in filters.items()])
        # Helpers first: Podman refuses to remove a container whose namespaces another one joined.
        containers.sort(key=lambda c: (c.get("Labels") or {}).get(LABEL_ROLE) != "helper")
        for container in containers:
            try:
                client.api.remove_container(container["Id"], force=True, v=True)
                removed += 1
            except docker.errors.NotFound:
                pass
            except docker.errors.APIError as exc:
                # Another run reaping the same orphan got there first: it is going, as wanted.
                if exc.status_code != 409 or "already in progress" not in str(exc):
                    raise
        for volume in volumes:
            try:
                client.api.remove_volume(volume["Name"], force=True)
            except docker.errors.NotFound:
                pass
        for network in networks:
            try:
                client.api.remove_network(network["Id"])
            except docker.errors.NotFound:
                pass
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        raise InfrastructureError(f"could not remove the suite's containers: {first_line(exc)}") from None
    return removed


def reap_orphans(client: docker.DockerClient) -> int:
    """Remove what runs on this host (and in this PID namespace) left behind when they were killed
    (their owner PID is gone): containers, volumes and networks."""
    host = owner_host()
    try:
        found = labelled(client, [LABEL])
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        raise InfrastructureError(f"could not list the suite's containers: {first_line(exc)}") from None
    owners = {(item.get("Labels") or {}).get(LABEL_OWNER, "") for items in found for item in items}
    removed = 0
    for owner in owners:
        owner_at, _, pid = owner.rpartition(":")
        if owner_at == host and pid.isdigit() and not _alive(int(pid)):
            removed += remove_labelled(client, {LABEL_OWNER: owner})
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
