"""Figures a run measures on its way (start-up times, stream arrivals, probe latencies, what the
fuzzer sent), kept for the report's plots. A leaf module: it imports nothing of conformance.

Each pytest process gathers its own (`Measurements`, on the run state); the plugin drains them
into every check's report, which pytest-xdist ships to the controller, where they are merged into
the report document under "measurements". Every series is bounded, so a long stream or a long
fuzz campaign does not grow the report without end.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

KINDS = ("startups", "streams", "probes", "fuzz", "requests")
MAX_POINTS = 400  # per series, spread evenly over it


def bounded(points: list, limit: int = MAX_POINTS) -> list:
    """At most `limit` points, evenly spread from the first to the last (a plot keeps its shape)."""
    if len(points) <= limit:
        return list(points)
    step = (len(points) - 1) / (limit - 1)
    return [points[round(i * step)] for i in range(limit)]


class Measurements:
    """One process's measurements, thread-safe (trials start candidates in threads)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._pending: list[tuple[str, dict[str, Any]]] = []

    def add(self, kind: str, **fields: Any) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown measurement kind {kind!r} (known: {', '.join(KINDS)})")
        with self._lock:
            self._pending.append((kind, fields))

    def startup(self, candidate: str, role: str, state: str, ended_s: float, budget_s: float,
                first_answer_s: float | None, ready_s: float | None) -> None:
        """start → first HTTP answer → /ready 200 (or how the wait ended) of one candidate."""
        self.add("startups", candidate=candidate, role=role, state=state, ended_s=_r(ended_s),
                 budget_s=budget_s, first_answer_s=_r(first_answer_s), ready_s=_r(ready_s))

    def stream(self, label: str, accept: str, status: int | None, ended: str,
               chunks: list[tuple[float, int]], events: list[tuple[float, int]]) -> None:
        """One captured answer: (seconds since sent, bytes) per chunk, (seconds, events completed)."""
        self.add("streams", label=label, accept=accept, status=status, ended=ended,
                 chunks=[[_r(t), n] for t, n in bounded(chunks)], events=[[_r(t), n] for t, n in bounded(events)])

    def probes(self, path: str, condition: str, latencies_s: list[float | None]) -> None:
        """Probe answers' latencies; None where no answer came within the timeout."""
        self.add("probes", path=path, condition=condition, latencies_s=[_r(x) for x in bounded(latencies_s)])

    def fuzz(self, tally: Counter) -> None:
        """The fuzz campaign's requests: (route, outcome) → count; outcome a status or "no answer"."""
        for (route, outcome), count in sorted(tally.items(), key=lambda item: (item[0][0], str(item[0][1]))):
            self.add("fuzz", route=route, outcome=str(outcome), count=count)

    def requests(self, sent: Counter) -> None:
        """Requests the checks sent (not the fuzzer's, which `fuzz` counts): (method, target) → count."""
        for (method, target), count in sorted(sent.items()):
            self.add("requests", route=f"{method} {target}", count=count)

    def drain(self) -> list[list]:
        """Everything added since the last drain, as JSON-ready [kind, fields] pairs."""
        with self._lock:
            pending, self._pending = self._pending, []
        return [[kind, fields] for kind, fields in pending]


def merge(drained: list[list]) -> dict[str, list[dict[str, Any]]]:
    """Drained pairs from every process → the report's "measurements" section, in a stable order
    (two runs of the same image list the same things in the same order). Fuzz counts of the same
    route and outcome are summed."""
    merged: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
    fuzz: Counter = Counter()
    requests: Counter = Counter()
    for kind, fields in drained:
        if kind == "fuzz":
            fuzz[(fields["route"], fields["outcome"])] += fields["count"]
        elif kind == "requests":
            requests[fields["route"]] += fields["count"]
        elif kind in merged:
            merged[kind].append(fields)
    merged["startups"].sort(key=lambda x: (x["role"], x["candidate"]))
    merged["streams"].sort(key=lambda x: (x["label"], x["accept"]))
    merged["probes"].sort(key=lambda x: (x["path"], x["condition"]))
    merged["fuzz"] = [{"route": route, "outcome": outcome, "count": count}
                      for (route, outcome), count in sorted(fuzz.items())]
    merged["requests"] = [{"route": route, "count": count} for route, count in sorted(requests.items())]
    return merged


def endpoint_calls(measured: dict[str, list], label: str) -> tuple[int, int]:
    """Calls to one declared endpoint ("POST /chat") in a run: (by the checks, by the fuzzer)."""
    checks = sum(r["count"] for r in measured.get("requests", []) if r["route"] == label)
    fuzzer = sum(f["count"] for f in measured.get("fuzz", []) if f["route"] == label)
    return checks, fuzzer


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
