"""`docker diff` read for WRITES-ONLY-TMP: which paths a container changed outside /tmp.

Docker lists every changed directory on the way to a changed file (`C /root`, `C /root/.cache`,
…) and every file below an added directory. Evidence shows what the agent wrote, once: parents
implied by a child are dropped and whatever lies below an added directory is counted under it.
Python bytecode caches are listed apart: Python silently skips them on a read-only root.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

KINDS = {0: "changed", 1: "added", 2: "deleted"}
WRITABLE_ROOTS = ("/tmp",)
SHOWN = 15
# Changes read at most: a candidate may write millions of files, and folding them is quadratic.
MAX_CHANGES = 1000


@dataclass(frozen=True)
class Change:
    path: str
    kind: str  # changed | added | deleted
    below: int = 0  # paths under an added directory, folded into it

    def __str__(self) -> str:
        more = f" (and {self.below} path{'s' if self.below != 1 else ''} below)" if self.below else ""
        return f"{self.kind} {self.path}{more}"


@dataclass(frozen=True)
class DiffReport:
    outside: list[Change] = field(default_factory=list)  # the defects: written outside /tmp
    bytecode: list[Change] = field(default_factory=list)  # information only
    complete: bool = True  # False: reading stopped at MAX_CHANGES

    def lines(self, limit: int = SHOWN) -> list[str]:
        shown = [f"  {c}" for c in self.outside[:limit]]
        if len(self.outside) > limit:
            shown.append(f"  … and {len(self.outside) - limit} more")
        if not self.complete:
            shown.append(f"  (reading stopped after {MAX_CHANGES} changed paths: there are more)")
        return shown

    def bytecode_line(self) -> str | None:
        if not self.bytecode:
            return None
        count = sum(1 + c.below for c in self.bytecode)
        places = ", ".join(c.path for c in self.bytecode[:3]) + (" …" if len(self.bytecode) > 3 else "")
        return (f"information: {count} Python bytecode cache path{'s' if count != 1 else ''} written ({places}); "
                "harmless: Python skips them on a read-only root")


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def is_bytecode(path: str) -> bool:
    parts = PurePosixPath(path).parts
    return "__pycache__" in parts or path.endswith((".pyc", ".pyo"))


def _fold(entries: list[tuple[str, str]]) -> list[Change]:
    """Drop `changed` directories implied by a deeper entry; count entries below an added directory."""
    paths = [p for p, _ in entries]
    kept = [(p, k) for p, k in entries if not (k == "changed" and any(_under(o, p) and o != p for o in paths))]
    added_dirs = sorted({p for p, k in kept if k == "added"}, key=len)
    folded: dict[str, int] = {}
    result: list[tuple[str, str]] = []
    for path, kind in kept:
        owner = next((d for d in added_dirs if d != path and _under(path, d)), None)
        if owner is not None:
            folded[owner] = folded.get(owner, 0) + 1
        else:
            result.append((path, kind))
    return [Change(p, k, folded.get(p, 0)) for p, k in sorted(result)]


def classify(changes: list[dict] | None, writable_roots: tuple[str, ...] = WRITABLE_ROOTS) -> DiffReport:
    """`changes`: the Engine API's container changes (`[{"Path": …, "Kind": 0|1|2}]`)."""
    complete = len(changes or []) < MAX_CHANGES
    entries = [(c["Path"], KINDS.get(c.get("Kind"), "changed")) for c in (changes or [])[:MAX_CHANGES]]
    ignored = [p for p, _ in entries if any(_under(p, root) for root in writable_roots)]
    entries = [(p, k) for p, k in entries if p not in ignored]
    code = [(p, k) for p, k in entries if is_bytecode(p)]
    rest = [(p, k) for p, k in entries if not is_bytecode(p)]
    # A directory only changed because of what is below it (bytecode, /tmp, a volume's mount point
    # Docker made) is not a write of its own.
    below = [p for p, _ in code] + ignored
    rest = [(p, k) for p, k in rest if not (k == "changed" and any(_under(c, p) and c != p for c in below))]
    return DiffReport(outside=_fold(rest), bytecode=_fold(code), complete=complete)


# -- reading the changes ---------------------------------------------------------------------------
_OPAQUE = (".wh..wh..opq", ".wh..opq")  # overlayfs/fuse-overlayfs markers of a new (opaque) directory
_WHITEOUT = ".wh."


def upper_dir_changes(upper: str | Path, lowers: list[str | Path], limit: int = MAX_CHANGES) -> list[dict]:
    """What `docker diff` reports, read from an overlay driver's upper directory on the Docker
    host: every entry there was written by the container. A whiteout (a 0/0 character device, or
    a `.wh.NAME` file) is a deletion; an entry absent from every lower layer was added."""
    upper = Path(upper)
    lower_dirs = [Path(p) for p in lowers]
    found: list[dict] = []
    for directory, dirnames, filenames in os.walk(upper):
        relative_dir = "/" + os.path.relpath(directory, upper).removeprefix(".").lstrip("/")
        for name in sorted(dirnames + filenames):
            if name in _OPAQUE:
                continue
            path = os.path.join(relative_dir, name)
            info = os.lstat(os.path.join(directory, name))
            if name.startswith(_WHITEOUT):
                found.append({"Path": os.path.join(relative_dir, name[len(_WHITEOUT):]), "Kind": 2})
            elif stat.S_ISCHR(info.st_mode) and info.st_rdev == 0:
                found.append({"Path": path, "Kind": 2})
            else:
                known = any(os.path.lexists(os.path.join(lower, path.lstrip("/"))) for lower in lower_dirs)
                found.append({"Path": path, "Kind": 0 if known else 1})
            if len(found) >= limit:
                return found
    return found


def container_changes(container) -> list[dict]:
    """The container's file changes: from its overlay upper directory when this host can read it
    (fast: only what was written is visited), else `docker diff` (which, on drivers such as
    fuse-overlayfs, compares whole trees: seconds of CPU)."""
    driver = (container.attrs.get("GraphDriver") or {}).get("Data") or {}
    upper, lowers = driver.get("UpperDir"), driver.get("LowerDir")
    if upper and lowers and os.access(upper, os.R_OK | os.X_OK):
        return upper_dir_changes(upper, lowers.split(":"))
    return (container.diff() or [])[:MAX_CHANGES]
