"""Figures a run measures on its way (start-up times, stream arrivals, probe latencies, what the
fuzzer sent), kept for the report's plots. A leaf module: it imports nothing of conformance.

Each pytest process gathers its own (`Measurements`, on the run state); the plugin drains them
into every check's report, which pytest-xdist ships to the controller, where they are merged into
the report document under "measurements". Every series is bounded, so a long stream or a long
fuzz campaign does not grow the report without end.
"""

from __future__ import annotations

import math
import statistics
import threading
from collections import Counter
from typing import Any

KINDS = ("startups", "streams", "probes", "fuzz", "requests", "latency")
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

    def latencies(self, heads: dict[tuple[str, str], list[float]]) -> None:
        """The checks' requests' seconds to the answer's head, by (method, target): summarised per
        route by `merge` (count, median, p95), so a per-request stall shows as a figure."""
        for (method, target), seconds in sorted(heads.items()):
            self.add("latency", route=f"{method} {target}", count=len(seconds),
                     heads_s=[_r(x) for x in bounded(seconds)])

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
    heads: dict[str, tuple[int, list[float]]] = {}
    for kind, fields in drained:
        if kind == "fuzz":
            fuzz[(fields["route"], fields["outcome"])] += fields["count"]
        elif kind == "requests":
            requests[fields["route"]] += fields["count"]
        elif kind == "latency":
            count, seconds = heads.get(fields["route"], (0, []))
            heads[fields["route"]] = (count + fields["count"], seconds + list(fields["heads_s"]))
        elif kind in merged:
            merged[kind].append(fields)
    merged["startups"].sort(key=lambda x: (x["role"], x["candidate"]))
    merged["streams"].sort(key=lambda x: (x["label"], x["accept"]))
    merged["probes"].sort(key=lambda x: (x["path"], x["condition"]))
    merged["fuzz"] = [{"route": route, "outcome": outcome, "count": count}
                      for (route, outcome), count in sorted(fuzz.items())]
    merged["requests"] = [{"route": route, "count": count} for route, count in sorted(requests.items())]
    merged["latency"] = [{"route": route, **summarise(seconds, count)} for route, (count, seconds) in sorted(heads.items())]
    return merged


def summarise(seconds: list[float], count: int | None = None) -> dict[str, Any]:
    """Median and 95th percentile (nearest rank) of head latencies; `count`, the requests they stand
    for (the points may be a spread-out sample of them)."""
    ordered = sorted(seconds)
    if not ordered:
        return {"count": count or 0, "median_s": None, "p95_s": None}
    p95 = ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]
    return {"count": len(ordered) if count is None else count, "median_s": _r(statistics.median(ordered)),
            "p95_s": _r(p95)}


def endpoint_calls(measured: dict[str, list], label: str) -> tuple[int, int]:
    """Calls to one declared endpoint ("POST /chat") in a run: (by the checks, by the fuzzer)."""
    checks = sum(r["count"] for r in measured.get("requests", []) if r["route"] == label)
    fuzzer = sum(f["count"] for f in measured.get("fuzz", []) if f["route"] == label)
    return checks, fuzzer


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
