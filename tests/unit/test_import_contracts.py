"""The package keeps its dependency directions: the import contracts of pyproject.toml
([tool.importlinter]) hold. Reads the source only; no Docker needed."""

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
# Beside the interpreter running the tests (a venv's bin/), not whatever `lint-imports` is first on PATH.
# Not resolved: a venv's python is a symlink to the base interpreter, whose bin/ has no lint-imports.
BIN_DIR = Path(sys.executable).parent


def test_import_contracts_are_kept():
    lint_imports = shutil.which("lint-imports", path=str(BIN_DIR))
    if importlib.util.find_spec("importlinter") is None or lint_imports is None:
        pytest.skip(f"import-linter is not installed beside {sys.executable} "
                    "(pip install -e '.[dev]' or pip install import-linter)")
    # --no-cache: nothing written into the checkout, and never a stale graph.
    run = subprocess.run([lint_imports, "--no-cache", "--no-logo"], cwd=REPO_ROOT, capture_output=True,
                         text=True, timeout=120, check=False)
    assert run.returncode == 0, f"lint-imports exited {run.returncode}:\n{run.stdout}\n{run.stderr}"
