"""The two engine calls a batch makes itself, beside the runs it starts: the ID of each image (to
know whether its bundle is still current) and the removal of what a killed run left behind.

A run removes its own containers, also when stopped by SIGTERM; only a run killed outright leaves
any, and the next run on this host would reap them. A batch does it at once, so that nothing it
started outlives it. The labels are the candidate layer's (`candidate/labels.py`), restated here
because a batch does not import the runs' code; `tests/unit/test_fleet_engine.py` keeps them equal."""

from __future__ import annotations

import os
import socket
import threading

import docker
import docker.errors
import requests.exceptions

LABEL = "org.agent-conformance"
LABEL_OWNER = "org.agent-conformance.owner"
TIMEOUT_S = 30.0
_FAILURES = (docker.errors.DockerException, requests.exceptions.RequestException, OSError)


def run_owner(pid: int) -> str:
    """The owner label of the run whose command has this PID (this host, this PID namespace)."""
    try:
        namespace = os.readlink("/proc/self/ns/pid").strip("pid:[]")
    except OSError:
        namespace = "?"
    return f"{socket.gethostname()}@{namespace}:{pid}"


class Engine:
    """The batch's own client, made on first use; every call bounded by TIMEOUT_S. The batch's
    threads share it, one call at a time (a docker-py client is one HTTP session)."""

    def __init__(self) -> None:
        self._client: docker.DockerClient | None = None
        self._lock = threading.Lock()

    def _api(self):
        if self._client is None:
            self._client = docker.from_env(timeout=TIMEOUT_S)
        return self._client.api

    def image_id(self, ref: str) -> str:
        """The local image's ID; "" when it cannot be told (the run will say why)."""
        with self._lock:
            try:
                return str(self._api().inspect_image(ref).get("Id") or "")
            except _FAILURES:
                return ""

    def remove_leftovers(self, pid: int) -> int:
        """Remove every container, volume and network of the run with this PID; the number
        removed. Never raises: a batch goes on, and the next run on this host reaps the rest."""
        with self._lock:
            return self._remove(pid)

    def _remove(self, pid: int) -> int:
        removed = 0
        owner = [f"{LABEL_OWNER}={run_owner(pid)}"]
        try:
            api = self._api()
            containers = api.containers(all=True, filters={"label": owner})
            # Helpers first: Podman refuses to remove a container whose namespaces another joined.
            containers.sort(key=lambda c: (c.get("Labels") or {}).get(f"{LABEL}.role") != "helper")
            for container in containers:
                removed += self._try(api.remove_container, container["Id"], force=True, v=True)
            for volume in api.volumes(filters={"label": owner}).get("Volumes") or []:
                removed += self._try(api.remove_volume, volume["Name"], force=True)
            for network in api.networks(filters={"label": owner}):  # last: nothing attached any more
                removed += self._try(api.remove_network, network["Id"])
        except _FAILURES:
            pass
        return removed

    @staticmethod
    def _try(call, *args, **kwargs) -> int:
        try:
            call(*args, **kwargs)
            return 1
        except _FAILURES:
            return 0

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
