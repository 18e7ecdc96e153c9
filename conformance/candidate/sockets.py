"""The TCP sockets a container listens on, read from its network namespace (`/proc/<pid>/net/tcp`
and `tcp6` on the Docker host, or `/proc/net/tcp*` read from inside: `inside`): evidence such as
"listens on 127.0.0.1:8080 only"."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

_LISTEN = "0A"
_MAX_TABLE_CHARS = 1 << 20


@dataclass(frozen=True, order=True)
class Listener:
    port: int
    address: str  # "0.0.0.0", "::", "127.0.0.1", "::1", …

    @property
    def all_interfaces(self) -> bool:
        return self.address in ("0.0.0.0", "::")

    @property
    def loopback(self) -> bool:
        return ipaddress.ip_address(self.address).is_loopback

    def __str__(self) -> str:
        return f"[{self.address}]:{self.port}" if ":" in self.address else f"{self.address}:{self.port}"


def _address(hex_address: str) -> str:
    # The kernel prints each 32-bit word of the address in host (little-endian) byte order.
    raw = bytes.fromhex(hex_address)
    swapped = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    address = ipaddress.ip_address(swapped)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return str(address.ipv4_mapped)
    return str(address)


def parse_proc_net_tcp(text: str) -> list[Listener]:
    """Listening sockets in the text of /proc/net/tcp or /proc/net/tcp6."""
    listeners = []
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 4 or fields[3] != _LISTEN:
            continue
        hex_address, _, hex_port = fields[1].partition(":")
        listeners.append(Listener(int(hex_port, 16), _address(hex_address)))
    return listeners


def parse_tables(raw: bytes) -> list[Listener]:
    """Listening sockets in /proc/net/tcp and tcp6 read one after the other (each header line is
    skipped as a line that is not LISTEN)."""
    text = raw[:_MAX_TABLE_CHARS * 2].decode("ascii", "replace")
    return sorted(set(parse_proc_net_tcp("\n" + text)))


def read_listeners(pid: int, proc: Path = Path("/proc")) -> list[Listener] | None:
    """Listening TCP sockets of the network namespace of `pid`; None when the host's /proc does not
    show it (remote Docker daemon, no permission)."""
    found: set[Listener] = set()
    readable = False
    for name in ("tcp", "tcp6"):
        try:
            # Listening sockets come first; a candidate holding a million connections makes the
            # rest megabytes long, and it is read on every readiness poll.
            with open(proc / str(pid) / "net" / name, encoding="ascii", errors="replace") as table:
                text = table.read(_MAX_TABLE_CHARS)
            found.update(parse_proc_net_tcp(text.rpartition("\n")[0] if len(text) == _MAX_TABLE_CHARS else text))
            readable = True
        except OSError:
            continue
    return sorted(found) if readable else None


def describe(listeners: list[Listener] | None) -> str:
    if listeners is None:
        return "listening sockets unknown (the container's /proc could not be read)"
    if not listeners:
        return "listens on no TCP port"
    return "listens on " + ", ".join(str(x) for x in listeners)
