"""The report page's charts, drawn here as inline SVG: no script, no library, no network.

Written by hand because the three charts are a few dozen shapes each: a charting library would
mean JavaScript in the page (which must render with it off) or a dependency far larger than
this module. Every chart is a fixed-size `<svg>` with an `id`, a `viewBox` and a title, so it
scales with the page, reads in a screen reader, and can be found by a test.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from typing import Final

from .model import Histogram, Timeline

__all__ = ["COLOURS", "funnel_chart", "histogram_chart", "timeline_chart"]

COLOURS: Final = {
    "rows": "#64748b",
    "sent": "#475569",
    "accepted by the API": "#2563eb",
    "delivered to the gateway": "#0891b2",
    "received by the handset": "#16a34a",
    "failed": "#dc2626",
    "expired": "#ea580c",
    "pending": "#a3a3a3",
    "awaiting": "#cbd5e1",
    "at gateway": "#38bdf8",
    "received": "#16a34a",
}
_FONT: Final = 'font-family="system-ui, sans-serif" font-size="13"'


def _open(chart_id: str, width: int, height: int, title: str) -> list[str]:
    return [
        f'<svg id="{chart_id}" class="chart" xmlns="http://www.w3.org/2000/svg"'
        f' viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img"'
        f' aria-labelledby="{chart_id}-title">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
    ]


def _text(x: float, y: float, text: str, anchor: str = "start", fill: str = "#1e293b") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}" {_FONT}>'
        f"{escape(text)}</text>"
    )


def funnel_chart(stages: Sequence[tuple[str, int]], width: int = 900) -> str:
    """Horizontal bars, one per stage, as long as its share of the rows."""
    row_height, top = 34, 10
    height = top * 2 + row_height * len(stages)
    label_width, value_width = 190, 150
    span = width - label_width - value_width
    most = max((count for _, count in stages), default=0) or 1
    parts = _open("funnel-chart", width, height, "The campaign's funnel")
    for index, (label, count) in enumerate(stages):
        y = top + index * row_height
        bar = max(span * count / most, 1.0 if count else 0.0)
        share = 100 * count / most
        colour = COLOURS.get(label, "#64748b")
        parts += [
            _text(label_width - 10, y + 21, label, "end"),
            f'<rect x="{label_width}" y="{y + 6}" width="{bar:.1f}" height="{row_height - 12}"'
            f' rx="3" fill="{colour}"><title>{escape(label)}: {count:,}</title></rect>',
            _text(label_width + bar + 8, y + 21, f"{count:,} ({share:.1f}%)"),
        ]
    parts.append("</svg>")
    return "\n".join(parts)


def _axis_seconds(value: float) -> str:
    if value < 1:
        return f"{value * 1000:.0f} ms"
    if value < 120:
        return f"{value:g} s" if value == int(value) else f"{value:.1f} s"
    if value < 7200:
        return f"{value / 60:.0f} min"
    return f"{value / 3600:.1f} h"


def timeline_chart(timeline: Timeline, width: int = 900, height: int = 320) -> str:
    """The accepted rows by state over time, stacked areas from the campaign's first answer."""
    left, right, top, bottom = 70, 20, 20, 60
    plot_w, plot_h = width - left - right, height - top - bottom
    names = [name for name in ("received", "failed", "expired", "at gateway", "awaiting")]
    steps = timeline.steps
    totals = [sum(timeline.series[name][i] for name in names) for i in range(steps)]
    most = max(totals, default=0) or 1
    parts = _open("timeline-chart", width, height, "Statuses over time")
    parts += _grid(left, top, plot_w, plot_h, most)
    below = [0] * steps
    for name in names:
        values = timeline.series[name]
        above = [b + v for b, v in zip(below, values, strict=True)]
        parts.append(_band(above, below, left, top, plot_w, plot_h, most, COLOURS[name], name))
        below = above
    for tick in range(5):
        seconds = timeline.step * steps * tick / 4
        x = left + plot_w * tick / 4
        parts.append(_text(x, top + plot_h + 18, "+" + _axis_seconds(seconds), "middle"))
    parts += _legend(names, left, height - 16)
    parts.append("</svg>")
    return "\n".join(parts)


def _grid(left: int, top: int, plot_w: int, plot_h: int, most: int) -> list[str]:
    parts = []
    for tick in range(5):
        y = top + plot_h - plot_h * tick / 4
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}"'
            ' stroke="#e2e8f0" stroke-width="1"/>'
        )
        parts.append(_text(left - 8, y + 4, f"{round(most * tick / 4):,}", "end"))
    return parts


def _band(
    above: list[int],
    below: list[int],
    left: int,
    top: int,
    plot_w: int,
    plot_h: int,
    most: int,
    colour: str,
    name: str,
) -> str:
    """One stacked band: along its upper edge, then back along the lower one."""
    steps = len(above)

    def point(index: int, value: int) -> str:
        x = left + plot_w * index / max(steps - 1, 1)
        y = top + plot_h - plot_h * value / most
        return f"{x:.1f},{y:.1f}"

    upper = [point(i, v) for i, v in enumerate(above)]
    lower = [point(i, v) for i, v in reversed(list(enumerate(below)))]
    return (
        f'<polygon points="{" ".join(upper + lower)}" fill="{colour}" stroke="{colour}"'
        f' stroke-width="0.5"><title>{escape(name)}</title></polygon>'
    )


def _legend(names: Sequence[str], x: float, y: float) -> list[str]:
    parts = []
    for name in names:
        parts.append(
            f'<rect x="{x:.1f}" y="{y - 10:.1f}" width="12" height="12" fill="{COLOURS[name]}"/>'
        )
        parts.append(_text(x + 16, y, name))
        x += 28 + 8 * len(name)
    return parts


def histogram_chart(histogram: Histogram, width: int = 900, height: int = 280) -> str:
    """Received rows by time to delivery: one bar per bin."""
    left, right, top, bottom = 70, 20, 20, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    bins = len(histogram.counts)
    most = max(histogram.counts, default=0) or 1
    parts = _open("histogram-chart", width, height, "Time to delivery")
    parts += _grid(left, top, plot_w, plot_h, most)
    slot = plot_w / max(bins, 1)
    for index, count in enumerate(histogram.counts):
        bar = plot_h * count / most
        start, end = histogram.edges(index)
        label = f"{_axis_seconds(start)} to {_axis_seconds(end)}: {count:,}"
        parts.append(
            f'<rect x="{left + index * slot + 1:.1f}" y="{top + plot_h - bar:.1f}"'
            f' width="{max(slot - 2, 1):.1f}" height="{bar:.1f}" fill="{COLOURS["received"]}">'
            f"<title>{escape(label)}</title></rect>"
        )
    every = max(1, math.ceil(bins / 6))
    for index in range(0, bins + 1, every):
        x = left + index * slot
        low, _ = histogram.edges(index)
        parts.append(_text(x, top + plot_h + 18, _axis_seconds(low), "middle"))
    parts.append("</svg>")
    return "\n".join(parts)
