"""The files a container changed (what `docker diff` lists), read as fast as this host allows."""

from __future__ import annotations

import os
import stat
from pathlib import Path

# Changes read at most: a candidate may write millions of files, and folding them is quadratic.
MAX_CHANGES = 1000
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
