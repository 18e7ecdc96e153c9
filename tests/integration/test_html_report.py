"""--report-html in a real browser (headless Chromium from Debian's packages): the page of a real
run loads with no console message, every plot has a size, the failing rows are open; a screenshot
of each page is kept as a CI artifact (`artifacts/`, or $AGENT_CONFORMANCE_ARTIFACTS). And the
terminal's progress line: shown on a terminal, never in a pipe."""

from __future__ import annotations

import os
import pty
import re
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import REPO

ARTIFACTS = Path(os.environ.get("AGENT_CONFORMANCE_ARTIFACTS") or REPO / "artifacts")
BROWSER_TIMEOUT_S = 90
ERASE = "\r\x1b[K"


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "headless Chromium is needed: scripts/setup.sh installs it (apt-get install chromium)"
    return found


def browse(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess:
    argv = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--user-data-dir={profile}",
            "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000", *extra, page.as_uri()]
    return subprocess.run(argv, capture_output=True, text=True, timeout=BROWSER_TIMEOUT_S)


@pytest.mark.parametrize("sample", ["reference", "broken/buffered-sse"])
def test_the_page_of_a_real_run_renders_in_a_browser(sample, built_samples, run_cli, tmp_path):
    page = tmp_path / "report.html"
    run = run_cli(built_samples[sample].tag, "--report-html", str(page))
    assert run.returncode in (0, 1), run.explain()
    assert ERASE not in run.stdout + run.stderr  # no progress line in a pipe
    source = page.read_text(encoding="utf-8")
    plots = source.count('<svg class="plot"')
    assert plots >= 4, "start-up, at least one stream, probes and fuzz"

    loaded = browse(page, tmp_path / "profile", "--dump-dom")
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    console = [line for line in loaded.stderr.splitlines() if ":CONSOLE" in line]
    assert not console, "the page wrote to the console:\n" + "\n".join(console)
    body = re.search(r"<body([^>]*)>", loaded.stdout).group(1)
    assert f'data-plots-rendered="{plots}/{plots}"' in body, body
    assert "data-errors" not in body, body
    for requirement in run.report["requirements"]:
        row = re.search(rf'<tr class="(\w+)" id="{requirement["id"]}">.*?<details( open="")?>', loaded.stdout, re.S)
        assert row.group(1) == requirement["status"]
        assert bool(row.group(2)) == (requirement["status"] in ("fail", "error")), requirement["id"]

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / f"report-{sample.replace('/', '-')}.png"
    shot.unlink(missing_ok=True)
    taken = browse(page, tmp_path / "profile", "--window-size=1200,3200", f"--screenshot={shot}")
    assert taken.returncode == 0 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", taken.stderr[-2000:]
    assert shot.stat().st_size > 50_000, "a page with a table and plots, not a blank one"


def test_progress_shows_on_a_terminal(built_samples, tmp_path, docker_client):
    """On a terminal the long phases say how they go, each on one line rewritten in place."""
    primary, secondary = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "PYTEST_XDIST_WORKER", "PYTEST_CURRENT_TEST")}
    process = subprocess.Popen([sys.executable, "-m", "conformance.cli", built_samples["reference"].tag],
                               cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=secondary, stderr=secondary,
                               env={**env, "TERM": "xterm", "COLUMNS": "120"})
    os.close(secondary)
    seen, deadline = b"", time.monotonic() + 300
    try:
        while time.monotonic() < deadline:
            if select.select([primary], [], [], 1.0)[0]:
                try:
                    chunk = os.read(primary, 65536)
                except OSError:  # the terminal's other end closed: the run is over
                    break
                if not chunk:
                    break
                seen += chunk
            elif process.poll() is not None:
                break
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(30)
        os.close(primary)
    text = seen.decode("utf-8", "replace")
    assert process.returncode == 0, text[-3000:]
    assert re.search(r"\x1b\[Kwaiting for /ready: \d+ s of the 30 s start-up budget", text), text[-3000:]
    assert re.search(r"\x1b\[Kfuzzing: \d+ requests sent \(4 at once\), 0 failure cause\(s\) found", text), text[-3000:]
    assert "Verdict: PASS" in text
