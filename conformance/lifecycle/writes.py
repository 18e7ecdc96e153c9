"""The file changes of a container (`docker diff`) judged for WRITES-ONLY-TMP: which paths it
changed outside /tmp.

Docker lists every changed directory on the way to a changed file (`C /root`, `C /root/.cache`,
…) and every file below an added directory. Evidence shows what the agent wrote, once: parents
implied by a child are dropped and whatever lies below an added directory is counted under it.
Python bytecode caches are listed apart: Python silently skips them on a read-only root.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePosixPath

from ..candidate.changes import MAX_CHANGES

KINDS = {0: "changed", 1: "added", 2: "deleted"}
# Files the engine itself puts into every container (Podman lists them as changes; Docker does not).
ENGINE_MADE = ("/etc/hosts", "/etc/hostname", "/etc/resolv.conf", "/etc/mtab", "/run/.containerenv")
SHOWN = 15


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


def classify(changes: list[dict] | None, writable_roots: tuple[str, ...] = ("/tmp",)) -> DiffReport:
    """`changes`: the Engine API's container changes (`[{"Path": …, "Kind": 0|1|2}]`); `writable_roots`:
    the platform's writable paths (`Platform.writable_paths`)."""
    complete = len(changes or []) < MAX_CHANGES
    entries = [(c["Path"], KINDS.get(c.get("Kind"), "changed")) for c in (changes or [])[:MAX_CHANGES]]
    ignored = [p for p, _ in entries if any(_under(p, root) for root in writable_roots) or p in ENGINE_MADE]
    entries = [(p, k) for p, k in entries if p not in ignored]
    code = [(p, k) for p, k in entries if is_bytecode(p)]
    rest = [(p, k) for p, k in entries if not is_bytecode(p)]
    # A directory only changed because of what is below it (bytecode, /tmp, a volume's mount point
    # Docker made, the engine's own files, listed or not) is not a write of its own.
    below = [p for p, _ in code] + ignored + list(ENGINE_MADE)
    rest = [(p, k) for p, k in rest if not (k == "changed" and any(_under(c, p) and c != p for c in below))]
    return DiffReport(outside=_fold(rest), bytecode=_fold(code), complete=complete)
