"""The agent's own words picked from its log: refused writes, reserved variables, the last error,
and the usual fix."""

from conformance.contract import platform

RESERVED = platform.default().reserved_env
from conformance.lifecycle import log_causes

UV_LOG = [
    "error: Could not acquire lock",
    "  cause: Could not create temporary file",
    '  cause: Read-only file system (os error 30) at path "/root/.cache/uv/.tmpaOzxUI"',
]
PYTHON_LOG = [
    "Traceback (most recent call last):",
    '  File "/app/broken.py", line 13, in <module>',
    "    CACHE.mkdir(parents=True, exist_ok=True)",
    "OSError: [Errno 30] Read-only file system: '/root/.cache'",
]
KUBE_LOG = [
    "KUBERNETES_SERVICE_HOST is set: in-cluster mode, loading the service-account token",
    "Traceback (most recent call last):",
    "FileNotFoundError: [Errno 2] No such file or directory: '/var/run/secrets/kubernetes.io/serviceaccount/token'",
]


def test_read_only_refusals_in_python_and_rust_wording():
    assert log_causes.read_only_lines(UV_LOG) == [UV_LOG[2]]
    assert log_causes.read_only_lines(PYTHON_LOG) == [PYTHON_LOG[3]]
    assert log_causes.read_only_lines(["EROFS: read-only file system, open '/app/x.log'"])
    assert log_causes.read_only_lines(KUBE_LOG) == []


def test_the_last_error_lines():
    assert log_causes.error_lines(PYTHON_LOG) == [PYTHON_LOG[3]]
    assert log_causes.error_lines(UV_LOG) == ["error: Could not acquire lock"]
    assert log_causes.error_lines(["INFO: started", "FATAL: connection pool exhausted"]) == ["FATAL: connection pool exhausted"]


def test_lines_naming_a_reserved_variable_or_in_cluster_machinery():
    assert log_causes.variable_lines(KUBE_LOG, RESERVED) == [KUBE_LOG[0], KUBE_LOG[2]]
    assert log_causes.variable_lines(["KeyError: 'PORT'"], RESERVED) == ["KeyError: 'PORT'"]
    assert log_causes.variable_lines(["REPORTS ready"], RESERVED) == []  # a word, not the variable
    assert "in-cluster" in log_causes.variable_hints(KUBE_LOG)[0]
    assert log_causes.variable_hints(["KeyError: 'PORT'"]) == []


def test_fix_hints_follow_the_cause():
    assert "uv run" in log_causes.read_only_hints(UV_LOG, ("uv", "run", "python", "agent.py"))[0]
    assert "HOME" in log_causes.read_only_hints(PYTHON_LOG, ("python", "broken.py"))[0]
    log_file = ["OSError: [Errno 30] Read-only file system: 'conversations.log'"]
    assert "stdout" in log_causes.read_only_hints(log_file, ("python", "broken.py"))[0]
