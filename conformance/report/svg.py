"""The few SVG pieces the HTML report's plots are drawn with: a linear scale with round ticks, and
escaped elements. Inline SVG, so the page needs no script library and no network to show them."""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

FONT = 'font-family="system-ui, sans-serif" font-size="11"'


def nice_step(span: float, ticks: int = 5) -> float:
    """A round step (1, 2 or 5 × 10^k) that cuts `span` into about `ticks` parts."""
    if span <= 0 or not math.isfinite(span):
        return 1.0
    raw = span / ticks
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


@dataclass(frozen=True)
class Scale:
    """Data [0, top] → pixels [start, end]; `top` rounded up to a tick."""

    top: float
    start: float
    end: float

    @classmethod
    def over(cls, largest: float, start: float, end: float) -> "Scale":
        step = nice_step(largest)
        return cls(max(step, math.ceil(largest / step - 1e-9) * step), start, end)

    def __call__(self, value: float) -> float:
        return round(self.start + (self.end - self.start) * min(max(value, 0.0), self.top) / self.top, 1)

    def ticks(self) -> list[float]:
        step = nice_step(self.top)
        return [round(i * step, 10) for i in range(int(round(self.top / step)) + 1)]


@dataclass(frozen=True)
class LogScale:
    """Data [low, top] → pixels [start, end] in powers of ten: a 2 ms probe and a 1 s one on one axis."""

    low: float
    top: float
    start: float
    end: float

    @classmethod
    def over(cls, smallest: float, largest: float, start: float, end: float) -> "LogScale":
        low = 10 ** math.floor(math.log10(max(smallest, 1e-9)))
        return cls(low, max(10 ** math.ceil(math.log10(max(largest, low * 10))), low * 10), start, end)

    def __call__(self, value: float) -> float:
        span = math.log10(self.top) - math.log10(self.low)
        share = (math.log10(min(max(value, self.low), self.top)) - math.log10(self.low)) / span
        return round(self.start + (self.end - self.start) * share, 1)

    def ticks(self) -> list[float]:
        count = round(math.log10(self.top / self.low))
        return [self.low * 10 ** i for i in range(count + 1)]


def label(value: float) -> str:
    """A tick label: no trailing zeros."""
    return f"{value:.3f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


def text(x: float, y: float, content: str, anchor: str = "start", css: str = "") -> str:
    cls = f' class="{css}"' if css else ""
    return f'<text x="{x}" y="{y}" text-anchor="{anchor}"{cls}>{escape(content)}</text>'


def line(x1: float, y1: float, x2: float, y2: float, css: str) -> str:
    return f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" class="{css}"/>'


def rect(x: float, y: float, width: float, height: float, css: str, title: str = "") -> str:
    tip = f"<title>{escape(title)}</title>" if title else ""
    return f'<rect x="{x}" y="{y}" width="{max(width, 0.5)}" height="{height}" class="{css}">{tip}</rect>'


def circle(x: float, y: float, r: float, css: str, title: str = "") -> str:
    tip = f"<title>{escape(title)}</title>" if title else ""
    return f'<circle cx="{x}" cy="{y}" r="{r}" class="{css}">{tip}</circle>'


def polyline(points: list[tuple[float, float]], css: str) -> str:
    return f'<polyline points="{" ".join(f"{x},{y}" for x, y in points)}" class="{css}"/>'


def x_axis(scale: Scale | LogScale, y: float, unit: str) -> list[str]:
    """Ticks and labels under a plot area's bottom edge at `y`."""
    parts = [line(scale.start, y, scale.end, y, "axis")]
    for tick in scale.ticks():
        x = scale(tick)
        parts += [line(x, y, x, y + 4, "axis"), text(x, y + 15, label(tick), "middle")]
    parts.append(text(scale.end, y + 28, unit, "end", "unit"))
    return parts


def figure(width: int, height: int, parts: list[str], title: str) -> str:
    """One plot: an <svg class="plot"> the page's check counts as rendered once it has a size."""
    return (f'<svg class="plot" role="img" aria-label="{escape(title)}" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" {FONT}>'
            f"<title>{escape(title)}</title>{''.join(parts)}</svg>")
