"""`docker diff` read for WRITES-ONLY-TMP: the agent's writes once each, bytecode apart, /tmp and
volume mount points ignored."""

from conformance.candidate import changes as container_changes
from conformance.lifecycle import writes


def changes(*entries: str) -> list[dict]:
    kinds = {"C": 0, "A": 1, "D": 2}
    return [{"Path": e[2:], "Kind": kinds[e[0]]} for e in entries]


def test_parents_implied_by_a_change_are_dropped():
    report = writes.classify(changes("C /app", "A /app/conversations.log"))
    assert [str(c) for c in report.outside] == ["added /app/conversations.log"]
    assert report.bytecode == []


def test_paths_below_an_added_directory_are_counted_under_it():
    report = writes.classify(changes("C /root", "A /root/.cache", "A /root/.cache/agent",
                                     "A /root/.cache/agent/tokenizer.json"))
    assert [str(c) for c in report.outside] == ["added /root/.cache (and 2 paths below)"]


def test_tmp_is_writable_and_volumes_are_mounts_of_their_own():
    report = writes.classify(changes("C /tmp", "A /tmp/x", "C /app", "A /app/data"), ("/tmp", "/app/data"))
    assert report.outside == []  # Docker made /app/data (the mount point), changing /app: not the agent


def test_the_engines_own_files_are_not_the_agents_writes():
    # What Podman lists for a container that wrote nothing: its own files and their parents.
    assert writes.classify(changes("C /etc", "A /etc/hosts", "A /etc/mtab", "C /run", "A /run/.containerenv")).outside == []
    assert writes.classify(changes("C /etc")).outside == []  # read-only root: the mount points' parent
    report = writes.classify(changes("C /etc", "A /etc/hosts", "A /etc/agent.conf"))
    assert [str(c) for c in report.outside] == ["added /etc/agent.conf"]


def test_bytecode_is_information_and_takes_its_parents_along():
    report = writes.classify(changes(
        "C /app", "A /app/__pycache__", "A /app/__pycache__/agent.cpython-311.pyc",
        "C /app/.venv/lib/python3.11/site-packages/fastapi",
        "A /app/.venv/lib/python3.11/site-packages/fastapi/__pycache__",
        "A /app/.venv/lib/python3.11/site-packages/fastapi/__pycache__/routing.cpython-311.pyc",
    ))
    assert report.outside == []
    assert [c.path for c in report.bytecode] == ["/app/.venv/lib/python3.11/site-packages/fastapi/__pycache__",
                                                 "/app/__pycache__"]
    assert report.bytecode_line().startswith("information: 4 Python bytecode cache paths")


def test_a_real_write_beside_bytecode_stays_a_defect():
    report = writes.classify(changes(
        "C /root", "C /root/.cache", "C /root/.cache/uv", "A /root/.cache/uv/interpreter-v5/x.msgpack",
        "C /app", "A /app/__pycache__", "A /app/__pycache__/agent.cpython-311.pyc", "D /etc/motd",
    ))
    assert [str(c) for c in report.outside] == ["deleted /etc/motd", "added /root/.cache/uv/interpreter-v5/x.msgpack"]
    assert writes.is_bytecode("/usr/lib/python3/x.pyc") and not writes.is_bytecode("/app/pyc.txt")


def test_long_lists_are_cut():
    report = writes.classify(changes(*[f"A /data/f{i}" for i in range(20)]), ())
    assert len(report.lines(limit=5)) == 6 and report.lines(limit=5)[-1] == "  … and 15 more"


def test_changes_read_from_an_overlay_upper_dir(tmp_path):
    lower, upper = tmp_path / "lower", tmp_path / "upper"
    for path in ("etc/motd", "etc/passwd", "app/agent.py"):
        (lower / path).parent.mkdir(parents=True, exist_ok=True)
        (lower / path).write_text("x")
    (upper / "etc").mkdir(parents=True)
    (upper / "etc/passwd").write_text("changed")
    (upper / "etc/.wh.motd").write_text("")  # a file-style whiteout: deleted
    (upper / "root/.cache/x").mkdir(parents=True)
    (upper / "root/.cache/.wh..wh..opq").write_text("")  # the marker of a new directory
    (upper / "root/.cache/x/f").write_text("new")
    changes = {(c["Path"], c["Kind"]) for c in container_changes.upper_dir_changes(upper, [lower])}
    assert changes == {("/etc", 0), ("/etc/passwd", 0), ("/etc/motd", 2), ("/root", 1), ("/root/.cache", 1),
                       ("/root/.cache/x", 1), ("/root/.cache/x/f", 1)}
