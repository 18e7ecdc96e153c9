"""What the platform does to a container, as constants: the port, the probes, the file system, the
variables it sets, the signal it sends and how long it waits. Checks and the candidate read these;
no other module spells them out."""

from __future__ import annotations

from collections.abc import Iterable

# -- the image
PLATFORM_OS, PLATFORM_ARCHITECTURE = "linux", "amd64"
PLATFORM = f"{PLATFORM_OS}/{PLATFORM_ARCHITECTURE}"

# -- the server
PORT = 8080
READY_PATH = "/ready"
HEALTH_PATH = "/health"
PROBE_PATHS = (READY_PATH, HEALTH_PATH)
PROBE_TIMEOUT_S = 1.0  # Kubernetes' default probe timeout (the reserved K_* variables show Knative)

# -- the file system: read-only but for these
WRITABLE_PATHS = ("/tmp",)
TMPFS_OPTIONS = "rw,exec,size=64m,mode=1777"

# -- stopping
GRACE_S = 10.0  # SIGTERM, then SIGKILL this long after (Kubernetes' default is 30; the contract says 10)

# -- the variables the platform sets (Knative on Kubernetes, OCI resource principal); images must
# define none of them. Dummy values: what a candidate is started with.
RESERVED_ENV = {
    "PORT": "8080",
    "K_SERVICE": "agent-conformance",
    "K_CONFIGURATION": "agent-conformance",
    "K_REVISION": "agent-conformance-00001",
    "KUBERNETES_SERVICE_HOST": "10.96.0.1",
    "KUBERNETES_SERVICE_PORT": "443",
    "KUBERNETES_SERVICE_PORT_HTTPS": "443",
    "KUBERNETES_PORT": "tcp://10.96.0.1:443",
    "KUBERNETES_PORT_443_TCP": "tcp://10.96.0.1:443",
    "KUBERNETES_PORT_443_TCP_ADDR": "10.96.0.1",
    "KUBERNETES_PORT_443_TCP_PORT": "443",
    "KUBERNETES_PORT_443_TCP_PROTO": "tcp",
    "OCI_RESOURCE_PRINCIPAL_VERSION": "2.2",
    "OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM": "/var/run/secrets/oci/resource-principal/private.pem",
    "OCI_RESOURCE_PRINCIPAL_RPST": "dummy-resource-principal-session-token",
}
RESERVED_PREFIXES = ("KUBERNETES_",)  # a whole family: KUBERNETES_*
RESERVED_NAMES = tuple(name for name in RESERVED_ENV if not name.startswith(RESERVED_PREFIXES))


def is_reserved(name: str) -> bool:
    return name in RESERVED_NAMES or name.startswith(RESERVED_PREFIXES)


def name_list(names: Iterable[str]) -> str:
    """`PORT, K_SERVICE, …, KUBERNETES_* (8)`: reserved names, each family folded where it first shows."""
    names = list(names)
    for prefix in RESERVED_PREFIXES:
        family = [n for n in names if n.startswith(prefix)]
        if family:
            shown_at = next(i for i, n in enumerate(names) if n.startswith(prefix))
            names = [n for n in names if not n.startswith(prefix)]
            names.insert(shown_at, f"{prefix}* ({len(family)})")
    return ", ".join(names)
