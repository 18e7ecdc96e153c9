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
