"""`report --html FILE`: the report as one self-contained page.

Everything is in the file: the style in a `<style>` element, the charts as inline SVG drawn by
`svg`, no script, no font or image to fetch. So it opens from a mail attachment, offline, with
JavaScript off, and prints. Each chart is followed by the same numbers as a table, for those
who cannot see it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Final

from .model import CampaignReport, Reason
from .svg import funnel_chart, histogram_chart, timeline_chart
from .text import seconds

__all__ = ["render_html", "write_html"]

_STYLE: Final = """
body { margin: 0; background: #f8fafc; color: #1e293b;
       font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; }
main { max-width: 940px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 8px; }
.meta { color: #64748b; margin: 0 0 16px; }
.tiles { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; }
.tile { background: #fff; border: 1px solid #e2e8f0; border-radius: 8px; padding: 10px 14px;
        min-width: 120px; }
.tile b { display: block; font-size: 22px; }
figure { margin: 0; background: #fff; border: 1px solid #e2e8f0; border-radius: 8px;
         padding: 10px; overflow-x: auto; }
svg.chart { display: block; max-width: 100%; height: auto; }
table { border-collapse: collapse; width: 100%; background: #fff; margin-top: 8px; }
th, td { text-align: left; padding: 4px 10px; border-bottom: 1px solid #e2e8f0; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
details { margin-top: 6px; color: #475569; }
.note { color: #475569; }
"""


def write_html(report: CampaignReport, path: str | Path) -> None:
    """Write the page to `path`, whole or not at all (beside it first, then renamed)."""
    target = Path(path)
    partial = target.with_name(f".{target.name}.partial")
    try:
        partial.write_text(render_html(report), encoding="utf-8")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def render_html(report: CampaignReport) -> str:
    """The page, as one string."""
    title = f"Campaign {report.campaign}" if report.campaign else "Campaign report"
    generated = datetime.fromtimestamp(report.generated_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = [
        f"<h1>{escape(title)}</h1>",
        f'<p class="meta">{escape(report.journal)} &middot; generated {generated}</p>',
        _tiles(report),
        *_funnel(report),
        *_timeline(report),
        *_histogram(report),
        *_failures(report),
        *_unknown(report),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}: delivery report</title>\n<style>{_STYLE}</style>\n"
        "</head>\n<body>\n<main>\n" + "\n".join(body) + "\n</main>\n</body>\n</html>\n"
    )


def _tiles(report: CampaignReport) -> str:
    funnel = report.funnel
    received = funnel.count("received")
    share = f"{100 * received / funnel.accepted:.1f}%" if funnel.accepted else "-"
    tiles = [
        ("rows", f"{funnel.rows:,}"),
        ("accepted", f"{funnel.accepted:,}"),
        ("received", f"{received:,} ({share})"),
        ("failed or expired", f"{funnel.failed + funnel.count('expired'):,}"),
        ("pending", f"{funnel.count('pending'):,}"),
        ("median delivery", seconds(report.delays.p50)),
    ]
    cells = "".join(f'<div class="tile">{escape(k)}<b>{escape(v)}</b></div>' for k, v in tiles)
    return f'<div class="tiles">{cells}</div>'


def _table(head: tuple[str, ...], rows: Sequence[tuple[str, ...]], numeric: set[int]) -> str:
    def cell(tag: str, index: int, value: str) -> str:
        kind = ' class="n"' if index in numeric else ""
        return f"<{tag}{kind}>{escape(value)}</{tag}>"

    header = "".join(cell("th", i, h) for i, h in enumerate(head))
    body = "".join(
        "<tr>" + "".join(cell("td", i, v) for i, v in enumerate(row)) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>"


def _funnel(report: CampaignReport) -> list[str]:
    stages = report.funnel.stages()
    rows = [(label, f"{count:,}") for label, count in stages]
    return [
        "<h2>Funnel</h2>",
        f"<figure>{funnel_chart(stages)}</figure>",
        "<details><summary>as a table</summary>"
        + _table(("stage", "rows"), rows, {1})
        + "</details>",
    ]


def _timeline(report: CampaignReport) -> list[str]:
    timeline = report.timeline
    if timeline is None:
        return ["<h2>Statuses over time</h2>", '<p class="note">Nothing accepted yet.</p>']
    last = {name: values[-1] if values else 0 for name, values in timeline.series.items()}
    started = datetime.fromtimestamp(timeline.start, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return [
        "<h2>Statuses over time</h2>",
        f'<p class="note">The accepted rows by state, from the first answer ({started}).</p>',
        f"<figure>{timeline_chart(timeline)}</figure>",
        "<details><summary>at the end, as a table</summary>"
        + _table(("state", "rows"), [(k, f"{v:,}") for k, v in last.items()], {1})
        + "</details>",
    ]


def _histogram(report: CampaignReport) -> list[str]:
    delays, histogram = report.delays, report.histogram
    head = [
        "<h2>Time to delivery</h2>",
        f"<p class=\"note\">From the API's answer to the handset's receipt, over {delays.count:,}"
        f" received rows: p50 {seconds(delays.p50)}, p90 {seconds(delays.p90)},"
        f" p99 {seconds(delays.p99)}, max {seconds(delays.max)}.</p>",
    ]
    if histogram is None:
        return head
    rows = [
        (" to ".join(seconds(edge) for edge in histogram.edges(i)), f"{n:,}")
        for i, n in enumerate(histogram.counts)
        if n
    ]
    return [
        *head,
        f"<figure>{histogram_chart(histogram)}</figure>",
        "<details><summary>as a table</summary>"
        + _table(("time to delivery", "rows"), rows, {1})
        + "</details>",
    ]


def _reason_rows(reasons: list[Reason]) -> list[tuple[str, ...]]:
    return [(r.label, r.description, f"{r.count:,}") for r in reasons]


def _failures(report: CampaignReport) -> list[str]:
    reasons = report.failure_reasons()
    if not reasons:
        return ["<h2>Failure reasons</h2>", '<p class="note">No failures.</p>']
    return [
        "<h2>Failure reasons</h2>",
        '<p class="note">The 10 most common reasons rows did not reach a handset.</p>',
        _table(("reason", "meaning", "rows"), _reason_rows(reasons), {2}),
    ]


def _unknown(report: CampaignReport) -> list[str]:
    if not report.unknown_callbacks:
        return []
    examples = ", ".join(mid for mid, _ in report.unknown_examples)
    return [
        "<h2>Callbacks for unknown messages</h2>",
        f'<p class="note">{report.unknown_callbacks:,} status callbacks name messages this'
        f" campaign does not know; they are kept apart and counted nowhere above."
        f" For example: {escape(examples)}.</p>",
    ]
