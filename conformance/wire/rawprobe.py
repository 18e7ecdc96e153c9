"""A probe as the kubelet sends one: GET on a fresh connection (`Connection: close`), sent raw
(`rawhttp`) within the budgets, counted with its head latency in the run's `Traffic`, and always
an `Exchange` (no answer: its error says why), so a miss is evidence with its `curl`.

Probes go out by the hundred (STAYS-UP's closing probes, /health after fuzzed requests). A fresh
connection is what the platform's probes use, and it costs an agent that stalls its keep-alive
answers (a 44 ms delayed ACK between head and body) nothing; sent raw, a probe costs about a third
of an httpx client's CPU.
"""

from __future__ import annotations

from ..contract.agent_config import Budgets
from . import exchange, rawhttp
from .bounded import USER_AGENT, Traffic, past_response_cap
from .curl import DEFAULT_USER_URL


class RawProbe:
    """`probe(path)`: GET `path` on a fresh connection to `host:port`, its head within
    first_byte_s and all of it within request_s (both `timeout_s` when given)."""

    def __init__(self, host: str, port: int, budgets: Budgets, traffic: Traffic | None = None,
                 headers: tuple[tuple[str, str], ...] = (), user_url: str = DEFAULT_USER_URL,
                 timeout_s: float | None = None):
        self.host, self.port, self.budgets = host, port, budgets
        self.traffic = traffic or Traffic()
        self.headers = (("User-Agent", USER_AGENT), *headers)
        self.user_url = user_url
        self.head_s = timeout_s if timeout_s is not None else budgets.first_byte_s
        self.total_s = timeout_s if timeout_s is not None else budgets.request_s

    def __call__(self, path: str) -> exchange.Exchange:
        self.traffic.count("GET", path)
        sent = self.headers + (("Connection", "close"),)  # as the wire carries it (rawhttp adds it)
        try:
            answer = rawhttp.send(self.host, self.port, rawhttp.RawRequest("GET", path, self.headers),
                                  first_byte_timeout=min(self.head_s, self.total_s), total_timeout=self.total_s,
                                  max_header_bytes=self.budgets.header_bytes, max_body_bytes=self.budgets.response_bytes)
        except rawhttp.RawHTTPError as exc:
            return exchange.Exchange("GET", path, sent, None, None, elapsed_s=exc.elapsed_s, error=str(exc),
                                     user_url=self.user_url)
        self.traffic.took("GET", path, answer.head_s)
        cut = f"{past_response_cap(self.budgets)}; the rest was not read" if answer.truncated else ""
        return exchange.answered("GET", path, sent, None, answer.status, answer.headers, answer.body, answer.elapsed_s,
                                 "", cut, self.user_url)
