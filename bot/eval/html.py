"""The evaluation as one self-contained HTML page: a bar chart per category (inline SVG), tables.

No scripts, no external assets; every string from a case or a finding is escaped, since finding
titles and paths come from code nobody here wrote.
"""

from __future__ import annotations

from html import escape

from bot.eval.report import RunInfo, expected_text, headline, hits_text, pct
from bot.eval.score import CaseResult, Status, Summary, Tally

BAR_WIDTH = 320
ROW_HEIGHT = 26
LABEL_WIDTH = 210
CHART_TITLE = "Recall per {what} (dark: found at the labelled lines; light: category agrees too)"
STATUS_COLOURS = {
    Status.found: "#1a7f37",
    Status.clean: "#1a7f37",
    Status.missed: "#cf222e",
    Status.false_alarm: "#cf222e",
    Status.skipped: "#6e7781",
    Status.error: "#9a6700",
}
STYLE = (
    "body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#1f2328}"
    "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #d0d7de;padding:4px 8px;"
    "vertical-align:top;text-align:left}th{background:#f6f8fa}code{font-size:12px}"
)


def bar_chart(groups: dict[str, Tally], what: str) -> str:
    """One bar per group: recall (found) and, beneath it, category agreement, as inline SVG."""
    height = ROW_HEIGHT * max(len(groups), 1) + 10
    width = LABEL_WIDTH + BAR_WIDTH + 120
    parts = [
        f"<figure><figcaption>{escape(CHART_TITLE.format(what=what))}</figcaption>",
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">',
    ]
    for i, (name, t) in enumerate(groups.items()):
        y = 5 + i * ROW_HEIGHT
        found_w = round(BAR_WIDTH * (t.recall or 0.0))
        agree_w = round(BAR_WIDTH * (t.category_recall or 0.0))
        parts += [
            f'<text x="0" y="{y + 15}" font-size="12">{escape(name)}</text>',
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{BAR_WIDTH}" height="20" fill="#eaeef2"/>',
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{found_w}" height="12" fill="#0969da"/>',
            f'<rect x="{LABEL_WIDTH}" y="{y + 12}" width="{agree_w}" height="8" fill="#80ccff"/>',
            f'<text x="{LABEL_WIDTH + BAR_WIDTH + 8}" y="{y + 15}" font-size="12">'
            f"{t.found}/{t.positives} ({pct(t.recall)})</text>",
        ]
    parts.append("</svg></figure>")
    return "".join(parts)


def _case_table(results: list[CaseResult]) -> str:
    rows = [
        "<table><tr><th>case</th><th>kind</th><th>category</th><th>expected</th><th>status</th>"
        "<th>our findings</th><th>seconds</th></tr>"
    ]
    for r in results:
        colour = STATUS_COLOURS[r.status]
        ours = r.reason if not r.evaluated else hits_text(r.hits, limit=20)
        secs = f"{r.build_seconds + r.review_seconds:.2f}" if r.evaluated else "-"
        rows.append(
            f"<tr><td>{escape(r.case.id)}</td><td>{escape(r.case.kind)}</td><td>{escape(r.case.category)}</td>"
            f"<td><code>{escape(expected_text(r))}</code></td>"
            f'<td style="color:{colour};font-weight:600">{escape(r.status.value)}</td>'
            f"<td><code>{escape(ours)}</code></td><td>{secs}</td></tr>"
        )
    rows.append("</table>")
    return "".join(rows)


def _listing(title: str, results: list[CaseResult]) -> str:
    items = [
        f"<li><b>{escape(r.case.id)}</b>: <code>{escape(h.label())}</code> {escape(h.title)}</li>"
        for r in results
        for h in r.outside
    ]
    body = f"<ul>{''.join(items)}</ul>" if items else "<p>(none)</p>"
    return f"<h2>{escape(title)}</h2>{body}"


def render_html(results: list[CaseResult], summary: Summary, info: RunInfo) -> str:
    head = "".join(f"<p>{escape(line)}</p>" for line in headline(results, summary, info))
    positives = [r for r in results if r.case.positive and r.evaluated]
    negatives = [r for r in results if not r.case.positive and r.evaluated]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>scale-review evaluation</title><style>{STYLE}</style></head><body>"
        f"<h1>scale-review evaluation</h1>{head}"
        f"<h2>Per category</h2>{bar_chart(summary.by_category, 'category')}"
        f"<h2>Per language</h2>{bar_chart(summary.by_language, 'language')}"
        f"<h2>Cases</h2>{_case_table(results)}"
        f"{_listing('Findings outside the labelled ranges (some are real)', positives)}"
        f"{_listing('False alarms (findings on negative cases)', negatives)}"
        f"<p>{info.seconds:.1f} s in all; cases file <code>{escape(info.cases_file)}</code>; "
        f"mirrors <code>{escape(info.mirrors)}</code></p></body></html>\n"
    )
