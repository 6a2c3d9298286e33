"""Server-side SVG charts for the dashboards: no JavaScript, no inline style (the CSP forbids it).

Every label is escaped with `format_html`; colours come from a fixed palette, never from data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

PALETTE = ("#0550ae", "#bc4c00", "#116329", "#8250df", "#a40e26", "#1b7c83", "#7d4e00", "#57606a")
TONE_COLOURS = {"negative": "#cf222e", "neutral": "#8c959f", "positive": "#1a7f37"}


@dataclass(frozen=True)
class Series:
    name: str
    points: dict[dt.date, float]


def _days(since: dt.date, until: dt.date) -> list[dt.date]:
    return [since + dt.timedelta(days=n) for n in range((until - since).days + 1)]


def line_chart(
    series: Sequence[Series], *, since: dt.date, until: dt.date, low: float, high: float, title: str
) -> SafeString:
    """One line per series over the days, on a fixed scale from `low` to `high` (gaps where no data)."""
    width, height, left, bottom, top = 720, 220, 44, 24, 10
    days = _days(since, until)
    step = (width - left - 10) / max(len(days) - 1, 1)

    def y(value: float) -> float:
        return top + (high - value) / (high - low) * (height - top - bottom)

    parts = [
        format_html(
            '<svg class="chart" viewBox="0 0 {} {}" role="img" aria-label="{}">', width, height, title
        ),
        format_html("<title>{}</title>", title),
    ]
    for tick in (low, (low + high) / 2, high):
        parts.append(
            format_html(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#d0d7de"/>'
                '<text x="{}" y="{}" font-size="11" text-anchor="end" fill="#57606a">{}</text>',
                left,
                width - 10,
                round(y(tick), 1),
                round(y(tick), 1),
                left - 4,
                round(y(tick) + 4, 1),
                f"{tick:+.1f}" if low < 0 else f"{tick:g}",
            )
        )
    for index in sorted({0, len(days) - 1, len(days) // 2}):
        parts.append(
            format_html(
                '<text x="{}" y="{}" font-size="11" text-anchor="middle" fill="#57606a">{}</text>',
                round(left + index * step, 1),
                height - 6,
                days[index].strftime("%d %b"),
            )
        )
    for number, line in enumerate(series):
        colour = PALETTE[number % len(PALETTE)]
        segments: list[list[str]] = [[]]
        for index, day in enumerate(days):
            if day in line.points:
                segments[-1].append(f"{left + index * step:.1f},{y(line.points[day]):.1f}")
            elif segments[-1]:
                segments.append([])
        for segment in segments:
            if len(segment) == 1:
                x_value, y_value = segment[0].split(",")
                parts.append(
                    format_html('<circle cx="{}" cy="{}" r="3" fill="{}"/>', x_value, y_value, colour)
                )
            elif segment:
                parts.append(
                    format_html(
                        '<polyline points="{}" fill="none" stroke="{}" stroke-width="2">'
                        "<title>{}</title></polyline>",
                        " ".join(segment),
                        colour,
                        line.name,
                    )
                )
    parts.append(mark_safe("</svg>"))
    return mark_safe("".join(parts))  # noqa: S308 - every part was built by format_html


def stacked_bars(
    counts: dict[dt.date, dict[str, int]], *, since: dt.date, until: dt.date, title: str
) -> SafeString:
    """Messages per day, stacked by tone (negative at the bottom)."""
    width, height, left, bottom, top = 720, 160, 44, 24, 10
    days = _days(since, until)
    most = max((sum(c.values()) for c in counts.values()), default=0) or 1
    slot = (width - left - 10) / len(days)
    bar = max(slot * 0.8, 1.0)
    scale = (height - top - bottom) / most
    parts = [
        format_html(
            '<svg class="chart" viewBox="0 0 {} {}" role="img" aria-label="{}">', width, height, title
        ),
        format_html("<title>{}</title>", title),
        format_html(
            '<text x="{}" y="{}" font-size="11" text-anchor="end" fill="#57606a">{}</text>',
            left - 4,
            top + 8,
            most,
        ),
    ]
    for index, day in enumerate(days):
        base = float(height - bottom)
        for tone in ("negative", "neutral", "positive"):
            value = counts.get(day, {}).get(tone, 0)
            if not value:
                continue
            size = value * scale
            base -= size
            parts.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}: {} {}</title></rect>',
                    round(left + index * slot, 1),
                    round(base, 1),
                    round(bar, 1),
                    round(size, 1),
                    TONE_COLOURS[tone],
                    day.isoformat(),
                    value,
                    tone,
                )
            )
    for index in sorted({0, len(days) - 1, len(days) // 2}):
        parts.append(
            format_html(
                '<text x="{}" y="{}" font-size="11" text-anchor="middle" fill="#57606a">{}</text>',
                round(left + index * slot + bar / 2, 1),
                height - 6,
                days[index].strftime("%d %b"),
            )
        )
    parts.append(mark_safe("</svg>"))
    return mark_safe("".join(parts))  # noqa: S308 - every part was built by format_html


def legend(names: Sequence[str]) -> SafeString:
    items = [
        format_html(
            '<li><svg width="12" height="12" aria-hidden="true">'
            '<rect width="12" height="12" fill="{}"/></svg> {}</li>',
            PALETTE[number % len(PALETTE)],
            name,
        )
        for number, name in enumerate(names)
    ]
    return format_html('<ul class="legend">{}</ul>', mark_safe("".join(items)))  # noqa: S308


def bar(value: float, *, high: float, colour: str = PALETTE[0]) -> SafeString:
    """A small horizontal bar for a table cell."""
    width = 0 if high <= 0 else max(0.0, min(1.0, value / high)) * 120
    return format_html(
        '<svg class="cell-bar" width="120" height="10" aria-hidden="true">'
        '<rect width="{}" height="10" fill="{}"/></svg>',
        round(width, 1),
        escape(colour),
    )
