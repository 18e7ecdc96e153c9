"""`agent-conformance matrix`: the sample matrix as a command, beside `agent-conformance IMAGE`."""

from __future__ import annotations

import subprocess
import sys

RUN = [sys.executable, "-m", "conformance.cli", "matrix"]


def test_matrix_prints_expected_and_actual_failing_ids(built_samples):
    out = subprocess.run(RUN + ["--no-build", "reference", "broken/health-204"], capture_output=True, text=True,
                         timeout=900)
    assert out.returncode == 0, out.stdout + out.stderr
    rows = {line.split()[0]: line for line in out.stdout.splitlines()[1:-1]}
    assert rows["reference"].split()[1:4] == ["ok", "pass", "-"] and "→  -" in rows["reference"]
    assert "ok" in rows["broken/health-204"] and "HEALTH-200  →  HEALTH-200" in rows["broken/health-204"]
    assert out.stdout.splitlines()[-1] == "2 samples: 2 as expected, 0 mismatched"


def test_an_unknown_sample_is_a_usage_error():
    out = subprocess.run(RUN + ["--no-build", "no-such-sample"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "no sample named ['no-such-sample']" in out.stderr


def test_an_image_named_like_the_subcommand_is_still_an_image():
    out = subprocess.run([sys.executable, "-m", "conformance.cli", "matrix:latest", "-q"], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 2 and "'matrix:latest' is not in the local Docker engine" in out.stdout + out.stderr
