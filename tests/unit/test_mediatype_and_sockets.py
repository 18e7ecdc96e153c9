"""Media types compared as HTTP defines them; listening sockets read from /proc/net/tcp{,6}."""

import pytest

from conformance.candidate import sockets
from conformance.wire import mediatype


@pytest.mark.parametrize(
    "value, expected",
    [
        ("application/json", True),
        ("Application/JSON; charset=UTF-8", True),
        ("application/json;charset=utf-8", True),
        (" application/json ", True),
        ("application/problem+json", False),
        ("text/json", False),
        ("application/jsonp", False),
        ("", False),
        (None, False),
    ],
)
def test_json_media_type(value, expected):
    assert mediatype.is_media_type(value, mediatype.JSON) is expected


@pytest.mark.parametrize(
    "accept, expected",
    [
        ("text/event-stream", True),
        ("application/json, text/event-stream", True),
        ("text/event-stream;q=0.9, application/json", True),
        ("TEXT/Event-Stream", True),
        ("text/event-stream;q=0", False),
        ("application/json", False),
        ("*/*", False),
        ("text/*", False),
        ("", False),
        (None, False),
    ],
)
def test_accept_includes_event_stream(accept, expected):
    assert mediatype.accept_includes(accept, mediatype.EVENT_STREAM) is expected


TCP = """  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 20287 1
   1: 00000000:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 20288 1
   2: 0200A8C0:1F90 0100A8C0:D431 01 00000000:00000000 00:00000000 00000000     0        0 20289 1
"""
TCP6 = """  sl  local_address                         remote_address                        st
   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A
   1: 00000000000000000000000001000000:0050 00000000000000000000000000000000:0000 0A
   2: 0000000000000000FFFF00000100007F:1F91 00000000000000000000000000000000:0000 0A
"""


def test_parse_ipv4_listeners_only():
    assert sockets.parse_proc_net_tcp(TCP) == [sockets.Listener(8080, "127.0.0.1"), sockets.Listener(8000, "0.0.0.0")]


def test_parse_ipv6_listeners():
    assert sockets.parse_proc_net_tcp(TCP6) == [
        sockets.Listener(8080, "::"), sockets.Listener(80, "::1"), sockets.Listener(8081, "127.0.0.1"),
    ]


def test_listener_kinds_and_description():
    assert sockets.Listener(8080, "::").all_interfaces and not sockets.Listener(8080, "::").loopback
    assert sockets.Listener(8080, "127.0.0.1").loopback and not sockets.Listener(8080, "127.0.0.1").all_interfaces
    assert sockets.describe([sockets.Listener(8080, "127.0.0.1")]) == "listens on 127.0.0.1:8080"
    assert sockets.describe([sockets.Listener(8080, "::1")]) == "listens on [::1]:8080"
    assert sockets.describe([]) == "listens on no TCP port"
    assert "unknown" in sockets.describe(None)


def test_read_listeners_from_a_proc_tree(tmp_path):
    (tmp_path / "42" / "net").mkdir(parents=True)
    (tmp_path / "42" / "net" / "tcp").write_text(TCP)
    assert sockets.read_listeners(42, tmp_path) == [sockets.Listener(8000, "0.0.0.0"), sockets.Listener(8080, "127.0.0.1")]
    assert sockets.read_listeners(43, tmp_path) is None


def test_read_listeners_of_this_process_namespace():
    import os
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    try:
        port = server.getsockname()[1]
        assert sockets.Listener(port, "127.0.0.1") in sockets.read_listeners(os.getpid())
    finally:
        server.close()
