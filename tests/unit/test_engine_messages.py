"""Why the Docker daemon cannot be reached, in a few words and with what to do: never the client's
nested internals."""

import pytest

from conformance.candidate.engine import unreachable

REFUSED = ("Error while fetching server API version: HTTPConnectionPool(host='127.0.0.1', port=1): Max retries "
           "exceeded with url: /version (Caused by NewConnectionError(\"HTTPConnection(host='127.0.0.1', port=1): "
           "Failed to establish a new connection: [Errno 111] Connection refused\"))")


@pytest.mark.parametrize("error, cause, advice", [
    (REFUSED, "connection refused", "start it"),
    ("Error while fetching server API version: ('Connection aborted.', FileNotFoundError(2, 'No such file or "
     "directory'))", "no socket there", "start it"),
    ("Error while fetching server API version: ('Connection aborted.', PermissionError(13, 'Permission denied'))",
     "permission denied", "docker group"),
    ("Install paramiko package to enable ssh:// support", "an ssh:// DOCKER_HOST needs the paramiko package",
     "pip install paramiko"),
    ("something else entirely\nsecond line", "something else entirely", "start it"),
])
def test_the_cause_is_named_in_a_few_words(error, cause, advice):
    said, todo = unreachable(error)
    assert said == cause and advice in todo and "HTTPConnectionPool" not in said
