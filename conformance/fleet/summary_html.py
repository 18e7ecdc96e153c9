"""The fleet summary as one self-contained page (`index.html`): the image × requirement grid, each
cell a link to that image's report at that requirement, the failures counted per requirement (the
rules that trip vendors most first), the bundles that do not verify and the images without one.

No script and no load of any kind (the Content-Security-Policy forbids them): it opens the same
from a CI artifact, a shared volume or a laptop. Everything read from a bundle is escaped."""

from __future__ import annotations

from html import escape
from typing import Any

from .summary import headline, href

_CSP = "default-src 'none'; style-src 'unsafe-inline'"
_SHORT = {"pass": "✓", "fail": "✗", "error": "!", "skip": "–"}
_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #1f2328; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 28px 0 8px; } .meta { color: #59636e; }
table { border-collapse: collapse; } td, th { padding: 3px 6px; border: 1px solid #d1d9e0; text-align: left; }
th { background: #f6f8fa; font-weight: 600; } th.id { writing-mode: vertical-rl; transform: rotate(180deg);
  white-space: nowrap; font-size: 12px; padding: 6px 2px; } th.id.MUST { color: #1f2328; } th.id.SHOULD { color: #59636e; }
td.cell { text-align: center; padding: 0; } td.cell a { display: block; padding: 3px 6px; text-decoration: none; color: inherit; }
td.pass { background: #dafbe1; color: #1a7f37; } td.fail { background: #ffebe9; color: #cf222e; font-weight: 700; }
td.error { background: #fff8c5; color: #9a6700; font-weight: 700; } td.skip { color: #8c959f; } td.none { background: #f6f8fa; }
td.verdict.pass, td.verdict.fail, td.verdict.incomplete { font-weight: 700; } td.verdict.incomplete { color: #9a6700; } tr.counts td { font-weight: 600; text-align: center; }
.legend span { margin-right: 12px; }
"""


def render(summary: dict[str, Any]) -> str:
    title = headline(summary)
    body = [
        f"<h1>{escape(title)}</h1>",
        f'<p class="meta">{escape(summary["suite"]["name"])} {escape(summary["suite"]["version"])}, summarized '
        f'{escape(summary["created"])}. Each cell links to the image\'s report at that requirement.</p>',
        '<p class="legend meta"><span>✓ pass</span><span>✗ fail</span><span>! could not be checked (error)</span>'
        "<span>– skip</span><span>(blank) not in that image's profile</span></p>",
        _grid(summary),
        _ranking(summary),
        _unverified(summary["unverified"]),
        _no_verdict(summary["no_verdict"]),
    ]
    head = (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>{_STYLE}</style></head>")
    return f"{head}\n<body>\n" + "\n".join(part for part in body if part) + "\n</body></html>\n"


def _grid(summary: dict[str, Any]) -> str:
    rows, requirements = summary["images"], summary["requirements"]
    if not rows:
        return "<p>No bundle that verifies.</p>"
    head = "".join(f'<th class="id {escape(r["level"])}" title="{escape(r["level"] + ": " + r["title"])}">'
                   f'{escape(r["id"])}</th>' for r in requirements)
    lines = ['<table class="grid">', f"<tr><th>image</th><th>verdict</th>{head}</tr>"]
    for row in rows:
        report = href(row["report"])
        cells = []
        for requirement in requirements:
            status = row["statuses"].get(requirement["id"])
            if status is None:
                cells.append('<td class="cell none"></td>')
                continue
            cells.append(f'<td class="cell {escape(status)}" title="{escape(requirement["id"] + ": " + status)}">'
                         f'<a href="{escape(report)}#{escape(requirement["id"])}">{_SHORT.get(status, escape(status))}'
                         f"</a></td>")
        verdict = escape(row["verdict"])
        lines.append(f'<tr><td><a href="{escape(report)}"><code>{escape(row["ref"])}</code></a></td>'
                     f'<td class="verdict {verdict}">{verdict}</td>{"".join(cells)}</tr>')
    counts = "".join(f'<td title="{r["fail"]} fail, {r["error"]} error">{r["images"] or ""}</td>' for r in requirements)
    lines.append(f'<tr class="counts"><td>images failing it</td><td></td>{counts}</tr>')
    lines.append("</table>")
    return "\n".join(lines)


def _ranking(summary: dict[str, Any]) -> str:
    ranked = sorted((r for r in summary["requirements"] if r["images"]), key=lambda r: (-r["images"], r["id"]))
    if not ranked:
        return ""
    total = len(summary["images"])
    lines = ["<h2>Which requirements fail most</h2>", "<table>",
             "<tr><th>requirement</th><th>level</th><th>title</th><th>fail</th><th>error</th><th>images</th></tr>"]
    lines += [f'<tr><td><code>{escape(r["id"])}</code></td><td>{escape(r["level"])}</td><td>{escape(r["title"])}</td>'
              f'<td>{r["fail"]}</td><td>{r["error"]}</td><td>{r["images"]} of {total}</td></tr>' for r in ranked]
    return "\n".join(lines + ["</table>"])


def _unverified(items: list[dict]) -> str:
    if not items:
        return ""
    lines = ["<h2>Bundles that do not verify</h2>", "<p>Their results are not counted above.</p>", "<ul>"]
    lines += [f'<li><code>{escape(u["bundle"])}</code>: {escape("; ".join(u["problems"][:5]))}</li>' for u in items]
    return "\n".join(lines + ["</ul>"])


def _no_verdict(items: list[dict]) -> str:
    if not items:
        return ""
    lines = ["<h2>Images without a verdict</h2>", "<ul>"]
    lines += [f'<li><code>{escape(m["ref"])}</code>: {escape(m["status"])}'
              + (f", {escape(m['reason'])}" if m["reason"] else "")
              + (f' (<a href="{escape(href(m["bundle"]))}/report.html">report</a>)' if m["bundle"] else "") + "</li>"
              for m in items]
    return "\n".join(lines + ["</ul>"])
