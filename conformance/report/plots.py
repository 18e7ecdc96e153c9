"""The HTML report's plots, drawn from the report document's "measurements" section: each takes
its list of measurements and gives (title, SVG) or None when the run measured nothing of it."""

from __future__ import annotations

from collections import defaultdict

from ..contract.platform import PROBE_TIMEOUT_S
from .svg import LogScale, Scale, circle, figure, line, polyline, rect, text, x_axis

WIDTH = 760
LEFT = 210  # room for the row labels
RIGHT = WIDTH - 20
ROW = 26


def startup_timeline(startups: list[dict]) -> tuple[str, str] | None:
    """Start → first HTTP answer → /ready 200 for every candidate, against the start-up budget."""
    if not startups:
        return None
    title = "Start-up: container started → first HTTP answer on 8080 → /ready answered 200"
    budget = max(s["budget_s"] for s in startups)
    scale = Scale.over(max([budget] + [s["ended_s"] for s in startups]), LEFT, RIGHT)
    top, parts = 10, []
    for i, s in enumerate(startups):
        y = top + i * ROW
        parts.append(text(LEFT - 8, y + 14, s["candidate"], "end"))
        answered = s["first_answer_s"] if s["first_answer_s"] is not None else s["ended_s"]
        parts.append(rect(scale(0), y + 4, scale(answered) - scale(0), 14, "starting",
                          f"{s['candidate']}: no HTTP answer for {answered:.2f} s"))
        if s["first_answer_s"] is not None:
            end = s["ready_s"] if s["ready_s"] is not None else s["ended_s"]
            parts.append(rect(scale(answered), y + 4, scale(end) - scale(answered), 14, "answering",
                              f"answering, not ready yet: {answered:.2f} → {end:.2f} s"))
        if s["ready_s"] is not None:
            parts.append(circle(scale(s["ready_s"]), y + 11, 5, "ready", f"ready {s['ready_s']:.2f} s after start"))
            parts.append(text(scale(s["ready_s"]) + 9, y + 15, f"{s['ready_s']:.2f} s"))
        else:
            x = scale(s["ended_s"])
            parts.append(line(x, y + 2, x, y + 20, "ended"))
            parts.append(text(min(x + 6, RIGHT - 80), y + 15, s["state"], css="ended-label"))
    bottom = top + len(startups) * ROW + 4
    parts.append(line(scale(budget), 4, scale(budget), bottom, "budget"))
    parts.append(text(scale(budget) - 4, bottom - 4, f"budget {budget:g} s", "end", "budget-label"))
    parts += x_axis(scale, bottom, "seconds since the container started")
    return title, figure(WIDTH, bottom + 34, parts, title)


def stream_arrivals(stream: dict) -> tuple[str, str]:
    """Events completed over time (a step line) and every chunk's arrival (ticks below it): a
    stream delivered incrementally climbs in steps, one sent in one lump rises once at the end."""
    chunks, events = stream["chunks"], stream["events"]
    total_events = events[-1][1] if events else 0
    last = max([t for t, _ in chunks] + [t for t, _ in events] + [0.001])
    status = stream["status"] if stream["status"] is not None else "no answer"
    title = (f"{stream['label']}, Accept: {stream['accept']} → {status}: {total_events} events, "
             f"{len(chunks)} chunks over {last:.2f} s (ended: {stream['ended']})")
    height, top, rug = 200, 12, 14
    bottom = height - 40
    xs = Scale.over(last, LEFT - 150, RIGHT)
    ys = Scale.over(max(total_events, 1), bottom - rug - 6, top)
    parts = [line(xs.start, ys.start, xs.start, ys.end, "axis")]
    for tick in ys.ticks():
        parts += [line(xs.start - 4, ys(tick), xs.start, ys(tick), "axis"),
                  text(xs.start - 7, ys(tick) + 4, f"{tick:g}", "end")]
    parts.append(text(xs.start + 4, top + 8, "events complete", css="unit"))
    if events:
        steps, previous = [(xs(0), ys(0))], 0
        for t, n in events:
            steps += [(xs(t), ys(previous)), (xs(t), ys(n))]
            previous = n
        steps.append((xs(last), ys(previous)))
        parts.append(polyline(steps, "events"))
    for t, n in chunks:
        parts.append(rect(xs(t) - 0.5, bottom - rug, 1, rug, "chunk", f"{n} B at {t * 1000:.0f} ms"))
    parts += x_axis(xs, bottom, "seconds since the request was sent (ticks: chunk arrivals)")
    return title, figure(WIDTH, height, parts, title)


def probe_latency(probes: list[dict]) -> tuple[str, str] | None:
    """Every probe's latency, idle and while a stream was in flight, against the probe timeout."""
    if not probes:
        return None
    title = f"Probe latency (ms), idle and with a stream in flight; Kubernetes' probe timeout is {PROBE_TIMEOUT_S:g} s"
    answered = [x * 1000 for p in probes for x in p["latencies_s"] if x is not None]
    scale = LogScale.over(min(answered + [1.0]), max(answered + [PROBE_TIMEOUT_S * 1000]), LEFT, RIGHT)
    top, parts = 10, []
    for i, p in enumerate(probes):
        y = top + i * ROW + 11
        parts.append(text(LEFT - 8, y + 4, f"{p['path']} ({p['condition']})", "end"))
        for latency in p["latencies_s"]:
            if latency is None:
                parts.append(text(scale.end, y + 4, "×", "middle", "no-answer"))
            else:
                css = "slow" if latency > PROBE_TIMEOUT_S else "probe"
                parts.append(circle(scale(latency * 1000), y, 3.5, css, f"{latency * 1000:.1f} ms"))
    bottom = top + len(probes) * ROW + 4
    parts.append(line(scale(PROBE_TIMEOUT_S * 1000), 4, scale(PROBE_TIMEOUT_S * 1000), bottom, "budget"))
    parts += x_axis(scale, bottom, "milliseconds, log scale (× no answer)")
    return title, figure(WIDTH, bottom + 34, parts, title)


STATUS_CLASSES = ("2xx", "3xx", "4xx", "5xx", "no answer")


def status_class(outcome: str) -> str:
    return f"{outcome[0]}xx" if outcome.isdigit() and outcome[0] in "2345" else "no answer"


def fuzz_outcomes(fuzz: list[dict]) -> tuple[str, str] | None:
    """The fuzz phase's requests by route, stacked by the class of what came back."""
    if not fuzz:
        return None
    by_route: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(STATUS_CLASSES, 0))
    for entry in fuzz:
        by_route[entry["route"]][status_class(entry["outcome"])] += entry["count"]
    total = sum(entry["count"] for entry in fuzz)
    title = f"Fuzz phase: {total} requests sent, by route and by what came back"
    scale = Scale.over(max(sum(c.values()) for c in by_route.values()), LEFT, RIGHT)
    top, parts = 24, []
    for i, name in enumerate(STATUS_CLASSES):  # the legend
        x = LEFT + i * 90
        parts += [rect(x, 4, 10, 10, f"s{name[0]}"), text(x + 14, 13, name)]
    for i, (route, counts) in enumerate(sorted(by_route.items())):
        y = top + i * ROW
        parts.append(text(LEFT - 8, y + 14, route, "end"))
        x = 0
        for name in STATUS_CLASSES:
            if counts[name]:
                parts.append(rect(scale(x), y + 4, scale(x + counts[name]) - scale(x), 14, f"s{name[0]}",
                                  f"{route}: {counts[name]} answered {name}"))
                x += counts[name]
    bottom = top + len(by_route) * ROW + 4
    parts += x_axis(scale, bottom, "requests")
    return title, figure(WIDTH, bottom + 34, parts, title)
