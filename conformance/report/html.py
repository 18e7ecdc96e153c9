"""The report as one self-contained HTML page (`--report-html`): the verdict, the requirement table
with each row's evidence folded under it (failing rows open), and plots of what the run measured.

Self-contained: inline CSS and SVG, one short inline script, and a Content-Security-Policy that
forbids the page any network access, so it opens the same from a CI artifact as from a laptop.
The script only marks the page once every plot has a size, for the browser test
(`data-plots-rendered`, `data-errors`); the page reads the same without it."""

from __future__ import annotations

import re
from html import escape
from pathlib import Path
from typing import Any

from . import plots
from .certificate import summary_lines
from .results import Status
from .terminal import calls_line, engine_line, latency_line, profile_line, verdict_line

_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"

_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1100px; padding: 0 16px; color: #1f2328; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 28px 0 8px; }
.meta { color: #59636e; } .verdict { display: inline-block; padding: 4px 10px; border-radius: 4px; color: #fff; font-weight: 600; }
.verdict.pass { background: #1a7f37; } .verdict.fail { background: #cf222e; } .verdict.incomplete { background: #9a6700; }
table { border-collapse: collapse; width: 100%; } td, th { text-align: left; padding: 4px 8px; vertical-align: top;
  border-bottom: 1px solid #d1d9e0; } th { background: #f6f8fa; }
td.status { font-weight: 600; } td:first-child { white-space: nowrap; } tr.pass td.status { color: #1a7f37; } tr.fail td.status { color: #cf222e; }
tr.error td.status { color: #9a6700; } tr.skip td.status { color: #59636e; }
tr.fail { background: #fff5f5; } tr.error { background: #fffbea; }
summary { cursor: pointer; } pre { white-space: pre-wrap; word-break: break-word; background: #f6f8fa; padding: 8px;
  border-radius: 4px; font-size: 12px; margin: 6px 0; } .fix { margin: 4px 0 8px; }
figure { margin: 12px 0 20px; } figcaption { font-weight: 600; margin-bottom: 4px; } .empty { color: #59636e; }
svg .axis { stroke: #59636e; } svg .unit { fill: #59636e; } svg text { fill: #1f2328; }
svg .starting { fill: #d1d9e0; } svg .answering { fill: #f2cc60; } svg .ready { fill: #1a7f37; }
svg .ended { stroke: #cf222e; stroke-width: 3; } svg .ended-label { fill: #cf222e; }
svg .budget { stroke: #cf222e; stroke-dasharray: 4 3; } svg .budget-label { fill: #cf222e; }
svg .events { fill: none; stroke: #0969da; stroke-width: 2; } svg .chunk { fill: #8250df; }
svg .probe { fill: #0969da; fill-opacity: .6; } svg .slow { fill: #cf222e; } svg .no-answer { fill: #cf222e; font-weight: 700; }
svg .s2 { fill: #1a7f37; } svg .s3 { fill: #54aeff; } svg .s4 { fill: #8c959f; } svg .s5 { fill: #cf222e; } svg .sn { fill: #24292f; }
"""

# Marks the page for the browser test: how many plots have a size, and any script error.
_SCRIPT = """
window.addEventListener("error", function (e) { document.body.dataset.errors = (document.body.dataset.errors || "") + e.message + ";"; });
window.addEventListener("load", function () {
  var plots = document.querySelectorAll("svg.plot"), drawn = 0;
  plots.forEach(function (svg) { var box = svg.getBBox(); if (box.width > 0 && box.height > 0) { drawn++; } });
  document.body.dataset.plotsRendered = drawn + "/" + plots.length;
});
"""


def render_html(report: dict[str, Any]) -> str:
    image, verdict, calls = report["image"], report["verdict"], calls_line(report)
    head = (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>Conformance report: {escape(image['ref'])} ({verdict})</title><style>{_STYLE}</style></head>")
    body = [
        f"<h1>Conformance report: <code>{escape(image['ref'])}</code></h1>",
        f'<p><span class="verdict {escape(verdict)}">{escape(verdict_line(report))}</span></p>',
        f'<p class="meta">Suite {escape(report["suite"]["name"])} {escape(report["suite"]["version"])} · image '
        f"<code>{escape(image['id'] or 'unknown')}</code> ({escape(image['os'] or '?')}/"
        f"{escape(image['architecture'] or '?')}) · {report['duration_s']:.1f} s</p>",
        f'<p class="meta">{escape(profile_line(report))}</p>' if profile_line(report) else "",
        f'<p class="meta">{escape(engine_line(report))}</p>' if engine_line(report) else "",
        f'<p class="meta">{escape(calls)}</p>' if calls else "",
        f'<p class="meta">{escape(latency_line(report))}</p>' if latency_line(report) else "",
        *(f'<p class="meta">{escape(line)}</p>' for line in summary_lines(report)),
        "<h2>Requirements</h2>",
        _table(report["requirements"]),
        "<h2>What the run measured</h2>",
        *_figures(report.get("measurements") or {}),
    ]
    # A line per row and per figure: two reports diff line by line.
    return f"{head}\n<body>\n" + "\n".join(body) + f"\n<script>{_SCRIPT}</script>\n</body></html>\n"


def _table(requirements: list[dict]) -> str:
    rows = ["<table><thead><tr><th>Requirement</th><th>Level</th><th>Status</th><th>What it asks, and the evidence"
            "</th></tr></thead><tbody>"]
    for r in requirements:
        status = r["status"]
        opened = " open" if status in (Status.FAIL, Status.ERROR) else ""
        evidence = "\n".join(r["evidence"]) or "(no evidence recorded)"
        fix = (f'<p class="fix"><strong>How to fix:</strong> {_code_spans(r["fix"])}</p>'
               if status == Status.FAIL and r.get("fix") else "")
        rows.append(f'<tr class="{escape(status)}" id="{escape(r["id"])}"><td><code>{escape(r["id"])}</code></td>'
                    f'<td>{escape(r["level"])}</td><td class="status">{escape(status)}</td>'
                    f"<td><details{opened}><summary>{escape(r['title'])}</summary><pre>{escape(evidence)}</pre>"
                    f"{fix}</details></td></tr>")
    rows.append("</tbody></table>")
    return "\n".join(rows)


def _code_spans(text: str) -> str:
    """Escaped, with the catalogue's `code` spans as <code>."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", escape(text))


def _figures(measured: dict[str, list]) -> list[str]:
    out: list[str] = []

    def add(name: str, plot: tuple[str, str] | None) -> None:
        if plot is None:
            out.append(f'<p class="empty">{escape(name)}: not measured in this run.</p>')
        else:
            out.append(f"<figure><figcaption>{escape(plot[0])}</figcaption>{plot[1]}</figure>")

    add("Start-up", plots.startup_timeline(measured.get("startups", [])))
    streams = measured.get("streams", [])
    for stream in streams:
        add("Stream", plots.stream_arrivals(stream))
    if not streams:
        add("Streams", None)
    add("Probe latency", plots.probe_latency(measured.get("probes", [])))
    add("Fuzz phase", plots.fuzz_outcomes(measured.get("fuzz", [])))
    return out


def write_html(path: str | Path, report: dict[str, Any]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(report), encoding="utf-8")
