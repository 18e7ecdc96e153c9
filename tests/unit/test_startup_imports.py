"""What a run imports before its first candidate starts: not Hypothesis (about 0.1 s of the serial
start-up), which the suite's process imports while the candidates boot (`generation.warm_up`); not
httpx's command line (`startup_imports`); not securesystemslib unless a bundle or a key needs it."""

from __future__ import annotations

import subprocess
import sys

BEFORE_THE_FIRST_CANDIDATE = ["conformance.plugin", "conformance.cli", "conformance.suite.conftest",
                              "conformance.suite.test_fuzz", "conformance.fuzz.pregenerated"]


def _printed(code: str, timeout_s: float = 60) -> list[str]:
    """The lines a fresh interpreter prints running `code` (so this process's imports do not count)."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout_s)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()


def _imported_first(names: list[str]) -> str:
    return f"import importlib, sys\nfor name in {names!r}: importlib.import_module(name)\n"


def test_collecting_the_suite_does_not_import_hypothesis():
    code = _imported_first(BEFORE_THE_FIRST_CANDIDATE) + \
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'hypothesis'))"
    assert _printed(code) == ["[]"]


def test_the_warm_up_imports_what_the_campaign_needs():
    code = ("import sys\nfrom conformance.fuzz.generation import warm_up\nwarm_up().join(60)\n"
            "print('hypothesis' in sys.modules and 'conformance.fuzz.campaign' in sys.modules)")
    assert _printed(code, timeout_s=90) == ["True"]


def test_httpx_without_its_command_line_until_called():
    """The stand-in keeps httpx's CLI (click, rich, pygments) out of the start-up; httpx works, and
    its `main` still reaches the real command (which then imports what it needs)."""
    code = ("import sys\nfrom conformance.startup_imports import skip_httpx_cli\nskip_httpx_cli()\nimport httpx\n"
            "print(httpx.Client is not None, sys.modules['httpx._main'].__doc__.startswith('stand-in'),"
            " any(m.split('.')[0] in ('rich', 'click', 'pygments') for m in sys.modules))\n"
            "try:\n    httpx.main(['--help'])\nexcept SystemExit as exc:\n    print('exit', exc.code)\nexcept ImportError as exc:\n"
            "    print('exit', 'no cli extras', exc)\n"
            "print(sys.modules['httpx._main'].__doc__ is None or not sys.modules['httpx._main'].__doc__.startswith('stand-in'))")
    lines = _printed(code)
    assert lines[0] == "True True False", lines
    assert lines[-1] == "True", lines  # the real module took its place when called


def test_no_signing_library_unless_a_bundle_is_written():
    """securesystemslib (40 ms) is imported for a bundle's envelope or a key, not by every run."""
    code = _imported_first(BEFORE_THE_FIRST_CANDIDATE + ["conformance.session.reports"]) + (
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'securesystemslib', 'cryptography', 'nacl'}))\n"
        "from conformance.report import attestation\nattestation.warm_up().join(60)\n"
        "print('securesystemslib.dsse' in sys.modules)")
    assert _printed(code) == ["[]", "True"]
