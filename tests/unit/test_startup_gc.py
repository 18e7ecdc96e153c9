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


def test_on_again_for_the_checks_once_collected(tmp_path):
    """In a pytest session of its own (a process, so this one's collector is untouched): paused
    through collection, on when the first test runs."""
    (tmp_path / "test_sees_the_collector.py").write_text(textwrap.dedent("""
        import gc
        def test_collector_on_and_start_up_frozen():
            assert gc.isenabled()
            assert gc.get_freeze_count() > 0
    """))
    program = textwrap.dedent(f"""
        import gc, sys
        import pytest
        from conformance.startup_gc import StartupPause, resumed_by
        pause = StartupPause()
        pause.pause()
        code = pytest.main([{str(tmp_path)!r}, "-q", "-p", "no:cacheprovider"], plugins=[resumed_by(pause)])
        sys.exit(int(code) if gc.isenabled() else 99)
    """)
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_on_again_when_collection_fails(tmp_path):
    (tmp_path / "test_broken.py").write_text("this is not Python\n")
    program = textwrap.dedent(f"""
        import gc, sys
        import pytest
        from conformance.startup_gc import StartupPause, resumed_by
        pause = StartupPause()
        pause.pause()
        pytest.main([{str(tmp_path)!r}, "-q", "-p", "no:cacheprovider"], plugins=[resumed_by(pause)])
        sys.exit(0 if gc.isenabled() else 99)
    """)
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_on_again_under_an_xdist_controller(tmp_path):
    """With -n 2 the controller collects nothing (its workers do): on once the tests start."""
    (tmp_path / "test_one.py").write_text("def test_one():\n    pass\n")
    program = textwrap.dedent(f"""
        import gc, sys
        import pytest
        from conformance.startup_gc import StartupPause, resumed_by
        pause = StartupPause()
        pause.pause()
        class Seen:
            on = None
            def pytest_testnodedown(self, node, error):
                Seen.on = gc.isenabled()
        code = pytest.main([{str(tmp_path)!r}, "-q", "-p", "no:cacheprovider", "-n", "2"], plugins=[resumed_by(pause), Seen()])
        sys.exit(int(code) if Seen.on else 99)
    """)
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
