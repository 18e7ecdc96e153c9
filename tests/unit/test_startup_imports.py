"""What a run imports before its first candidate starts: not Hypothesis (about 0.1 s of the serial
start-up), which the suite's process imports while the candidates boot (`generation.warm_up`)."""

from __future__ import annotations

import subprocess
import sys

BEFORE_THE_FIRST_CANDIDATE = ["conformance.plugin", "conformance.cli", "conformance.suite.conftest",
                              "conformance.suite.test_fuzz", "conformance.fuzz.pregenerated"]


def test_collecting_the_suite_does_not_import_hypothesis():
    code = (f"import importlib, sys\nfor name in {BEFORE_THE_FIRST_CANDIDATE!r}: importlib.import_module(name)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'hypothesis'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_the_warm_up_imports_what_the_campaign_needs():
    code = ("import sys\nfrom conformance.fuzz.generation import warm_up\nwarm_up().join(60)\n"
            "print('hypothesis' in sys.modules and 'conformance.fuzz.campaign' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=90)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "True"


def test_httpx_without_its_command_line_until_called():
    """The stand-in keeps httpx's CLI (click, rich, pygments) out of the start-up; httpx works, and
    its `main` still reaches the real command (which then imports what it needs)."""
    code = ("import sys\nfrom conformance.startup_imports import skip_httpx_cli\nskip_httpx_cli()\nimport httpx\n"
            "print(httpx.Client is not None, 'httpx._main' in sys.modules and sys.modules['httpx._main'].__doc__.startswith('stand-in'),"
            " any(m.split('.')[0] in ('rich', 'click', 'pygments') for m in sys.modules))\n"
            "try:\n    httpx.main(['--help'])\nexcept SystemExit as exc:\n    print('exit', exc.code)\nexcept ImportError as exc:\n"
            "    print('exit', 'no cli extras', exc)\n"
            "print(sys.modules['httpx._main'].__doc__ is None or not sys.modules['httpx._main'].__doc__.startswith('stand-in'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert lines[0] == "True True False", out.stdout
    assert lines[-1] == "True", out.stdout  # the real module took its place when called


def test_no_signing_library_unless_a_bundle_is_written():
    """securesystemslib (40 ms) is imported for a bundle's envelope or a key, not by every run."""
    code = (f"import importlib, sys\nfor name in {BEFORE_THE_FIRST_CANDIDATE + ['conformance.session.reports']!r}: "
            "importlib.import_module(name)\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'securesystemslib', 'cryptography', 'nacl'}))\n"
            "from conformance.report import attestation\nattestation.warm_up().join(60)\n"
            "print('securesystemslib.dsse' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["[]", "True"], out.stdout
