"""The command pauses Python's collector while it starts (conformance.startup_gc): paused until the
checks are collected, then everything imported frozen and the collector back on."""

import gc
import subprocess
import sys
import textwrap

import pytest

from conformance.startup_gc import StartupPause, collector_paused, resumed_by


@pytest.fixture
def collector_restored():
    was = gc.isenabled()
    yield
    gc.unfreeze()
    (gc.enable if was else gc.disable)()


def test_paused_then_frozen_and_enabled(collector_restored):
    gc.enable()
    gc.unfreeze()
    pause = StartupPause()
    pause.pause()
    assert not gc.isenabled()
    pause.resume()
    assert gc.isenabled()
    assert gc.get_freeze_count() > 0
    pause.resume()  # twice (collection, then the session's end): once
    assert gc.isenabled()


def test_a_collector_its_caller_turned_off_stays_off(collector_restored):
    gc.disable()
    with collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()
    assert gc.get_freeze_count() == 0


def _paused_session(tmp_path, *args: str, exits_with: str, watcher: str = "") -> subprocess.CompletedProcess:
    """pytest over `tmp_path` in a process of its own (this one's collector stays untouched), its
    collector paused first as the command pauses it. The process exits with `exits_with`, evaluated
    after the session (`code`: pytest's exit code; `Watcher`: the class `watcher` defines, if any,
    registered as a plugin beside the one that ends the pause)."""
    program = "\n".join([
        "import gc, sys",
        "import pytest",
        "from conformance.startup_gc import StartupPause, resumed_by",
        "pause = StartupPause()",
        "pause.pause()",
        textwrap.dedent(watcher) if watcher else "Watcher = None",
        "plugins = [resumed_by(pause)] + ([Watcher()] if Watcher else [])",
        f"code = pytest.main([{str(tmp_path)!r}, '-q', '-p', 'no:cacheprovider', *{list(args)!r}], plugins=plugins)",
        f"sys.exit({exits_with})",
    ])
    return subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120)


def test_on_again_for_the_checks_once_collected(tmp_path):
    """Paused through collection, on when the first test runs."""
    (tmp_path / "test_sees_the_collector.py").write_text(textwrap.dedent("""
        import gc
        def test_collector_on_and_start_up_frozen():
            assert gc.isenabled()
            assert gc.get_freeze_count() > 0
    """))
    done = _paused_session(tmp_path, exits_with="int(code) if gc.isenabled() else 99")
    assert done.returncode == 0, done.stdout + done.stderr


def test_on_again_when_collection_fails(tmp_path):
    (tmp_path / "test_broken.py").write_text("this is not Python\n")
    done = _paused_session(tmp_path, exits_with="0 if gc.isenabled() else 99")
    assert done.returncode == 0, done.stdout + done.stderr


def test_on_again_under_an_xdist_controller(tmp_path):
    """With -n 2 the controller collects nothing (its workers do): on once the tests start."""
    (tmp_path / "test_one.py").write_text("def test_one():\n    pass\n")
    watcher = """
        class Watcher:
            on = None
            def pytest_testnodedown(self, node, error):
                Watcher.on = gc.isenabled()
    """
    done = _paused_session(tmp_path, "-n", "2", watcher=watcher, exits_with="int(code) if Watcher.on else 99")
    assert done.returncode == 0, done.stdout + done.stderr
