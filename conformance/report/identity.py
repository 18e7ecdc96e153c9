"""What a verdict is bound to besides the image: which suite gave it (version, a SHA-256 over its
installed files, the git commit when run from a clone), which contract (the profile file's
SHA-256), which agent config (its SHA-256), on which Python, pytest and Hypothesis, and who hands
the image in (`[product]`). A certifier compares these, not names: two installs of "0.1.0" may
differ, and a profile file may be edited.

Everything here is read once per run, on the controller, and is the same for two runs of the same
install: the report's identity section is not a measured figure.
"""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from .. import SUITE_NAME, __version__

PACKAGE_DIR = Path(__file__).resolve().parents[1]
_GIT_TIMEOUT_S = 5.0
_SKIPPED_PARTS = {"__pycache__"}


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tree_sha256(root: Path = PACKAGE_DIR) -> tuple[str, int]:
    """(SHA-256, file count) over the package's files: the SHA-256 of a `sha256sum` listing of every
    file under `root` but bytecode caches, by relative path. The same as
    `cd conformance && find . -type f ! -path '*/__pycache__/*' | sed 's|^./||' | LC_ALL=C sort |
    xargs sha256sum | sha256sum`."""
    files = sorted((p.relative_to(root).as_posix(), p) for p in root.rglob("*")
                   if p.is_file() and not _SKIPPED_PARTS & set(p.relative_to(root).parts))
    listing = "".join(f"{sha256_bytes(path.read_bytes())}  {name}\n" for name, path in files)
    return sha256_bytes(listing.encode()), len(files)


def git_commit(root: Path = PACKAGE_DIR) -> dict[str, Any]:
    """The clone's commit when the suite runs from one ({} otherwise), and whether the package's
    files differ from it: a commit alone does not name what ran."""
    if not any((parent / ".git").exists() for parent in (root, *root.parents)):
        return {}
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=_GIT_TIMEOUT_S)
        status = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--", "."], capture_output=True,
                                text=True, timeout=_GIT_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired):
        return {}
    if head.returncode != 0:
        return {}
    return {"commit": head.stdout.strip(), "modified": bool(status.stdout.strip()) if status.returncode == 0 else None}


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return ""


def config_sha256(source: str, as_dict: dict[str, Any]) -> str:
    """The agent config's SHA-256: of the file's bytes when it came from one, else of the config
    as the run used it (canonical JSON), so command-line endpoints are named too."""
    path = Path(source)
    if source not in ("default", "command line") and path.is_file():
        return sha256_bytes(path.read_bytes())
    return sha256_bytes(json.dumps(as_dict, sort_keys=True, separators=(",", ":")).encode())


def collect(profile_name: str, profile_text: str, agent_config: dict[str, Any], product: dict[str, str]) -> dict:
    """The report's `identity` section. `agent_config`: `AgentConfig.as_dict()`."""
    suite_sha, files = tree_sha256()
    source = agent_config.get("source", "default")
    return {
        "suite": {"name": SUITE_NAME, "version": __version__, "sha256": suite_sha, "files": files, **git_commit()},
        "profile": {"name": profile_name, "sha256": sha256_bytes(profile_text.encode())},
        "agent_config": {"source": source, "sha256": config_sha256(source, agent_config)},
        "runtime": {"python": platform.python_version(), "pytest": _version("pytest"),
                    "hypothesis": _version("hypothesis")},
        "product": dict(product),
    }


def identity_lines(report: dict[str, Any]) -> list[str]:
    """The identity as the Markdown report shows it: one line each."""
    ident = report.get("identity") or {}
    if not ident:
        return []
    suite, runtime = ident["suite"], ident["runtime"]
    commit = f", commit {suite['commit'][:12]}{' (modified)' if suite.get('modified') else ''}" if suite.get("commit") else ""
    product = ident.get("product") or {}
    lines = [f"Suite {suite['version']} (files SHA-256 {suite['sha256'][:16]}…{commit}) on Python {runtime['python']}, "
             f"pytest {runtime['pytest']}, Hypothesis {runtime['hypothesis']}.",
             f"Profile {ident['profile']['name']} SHA-256 {ident['profile']['sha256'][:16]}…; agent config "
             f"{ident['agent_config']['source']} SHA-256 {ident['agent_config']['sha256'][:16]}…."]
    if product:
        lines.append("Product: " + ", ".join(f"{k} {v}" for k, v in product.items()) + ".")
    return lines
