"""Listening analytics: mention volume, tone and sources by day, and their CSV exports."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from firstring.lib.errors import InvalidInput
from firstring.lib.spreadsheet import safe_cell
from firstring.listening import selectors
from firstring.listening.forms import AnalyticsForm
from firstring.listening.sources import all_kinds
from firstring.web import charts
from firstring.web.errors import agent_view
from firstring.web.forms import valid

ANALYTICS_MAX_DAYS = 366
# Monitors compared at once when none is chosen (the enabled ones, by name).
ANALYTICS_DEFAULT_MONITORS = 20


@dataclass(frozen=True)
class AnalyticsRange:
    since: date
    until: date  # inclusive
    monitor_ids: list[int]

    @property
    def start(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.since, time.min))

    @property
    def end(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.until + timedelta(days=1), time.min))

    @property
    def query(self) -> str:
        params = [("since", self.since.isoformat()), ("until", self.until.isoformat())]
        return urlencode(params + [("monitor", str(pk)) for pk in self.monitor_ids])


def _analytics_range(request: HttpRequest) -> AnalyticsRange:
    data = valid(AnalyticsForm(request.GET))
    until = data["until"] or timezone.localdate()
    since = data["since"] or until - timedelta(days=6)
    if since > until:
        raise InvalidInput("the range must start before it ends")
    if (until - since).days >= ANALYTICS_MAX_DAYS:
        raise InvalidInput(f"the range spans at most {ANALYTICS_MAX_DAYS} days")
    chosen = data["monitor"] or list(
        selectors.monitors_all()
        .filter(enabled=True)
        .values_list("pk", flat=True)[:ANALYTICS_DEFAULT_MONITORS]
    )
    return AnalyticsRange(since=since, until=until, monitor_ids=chosen)


def _volume(rows: list[selectors.DailyRow], names: dict[str, str], days: list[date]) -> list[charts.Series]:
    """Mentions per day per key, zero on the days without any (volume has no gaps)."""
    points: dict[str, dict[date, float]] = {key: dict.fromkeys(days, 0.0) for key in names}
    for row in rows:
        if row.key in points:
            points[row.key][row.day] = row.mentions
    return [charts.Series(names[key], points[key]) for key in names]


@require_GET
@agent_view
def analytics(request: HttpRequest) -> HttpResponse:
    """Volume and tone over time per monitor and source, share of voice, top terms and authors."""
    span = _analytics_range(request)
    stats = selectors.listening_analytics(
        monitor_ids=span.monitor_ids, since=span.start, until=span.end, bucket="day"
    )
    per_monitor, per_source = selectors.listening_daily(
        monitor_ids=span.monitor_ids, since=span.start, until=span.end
    )
    days = [span.since + timedelta(days=n) for n in range((span.until - span.since).days + 1)]
    monitor_names = {str(s.monitor_id): s.name for s in stats}
    labels = {kind.kind: kind.label for kind in all_kinds()}
    source_names = {row.key: labels.get(row.key, row.key or "unknown") for row in per_source}
    volume = _volume(per_monitor, monitor_names, days)
    by_source = _volume(per_source, source_names, days)
    tone: dict[str, dict[date, float]] = {key: {} for key in monitor_names}
    tones_per_day: dict[date, dict[str, int]] = {}
    for row in per_monitor:
        if row.mean_tone is not None and row.key in tone:
            tone[row.key][row.day] = row.mean_tone
    for row in per_source:
        day = tones_per_day.setdefault(row.day, {"negative": 0, "neutral": 0, "positive": 0})
        day["negative"] += row.negative
        day["neutral"] += row.neutral
        day["positive"] += row.positive
    most = max((max(s.points.values(), default=0) for s in volume + by_source), default=0)
    high = float(max(most, 1))
    common = {"since": span.since, "until": span.until}
    context = {
        "span": span,
        "stats": stats,
        "share_rows": [(s, charts.bar(s.share_of_voice, high=1.0)) for s in stats],
        "monitors": selectors.monitors_all(),
        "volume_chart": charts.line_chart(
            volume, low=0, high=high, title="Mentions per day by monitor", **common
        ),
        "volume_legend": charts.legend([s.name for s in volume]),
        "tone_chart": charts.line_chart(
            [charts.Series(monitor_names[key], points) for key, points in tone.items()],
            low=-1,
            high=1,
            title="Mean tone per day by monitor",
            **common,
        ),
        "tone_bars": charts.stacked_bars(tones_per_day, title="Mentions per day by tone", **common),
        "source_chart": charts.line_chart(
            by_source, low=0, high=high, title="Mentions per day by source", **common
        ),
        "source_legend": charts.legend([s.name for s in by_source]),
        "source_totals": _source_totals(per_source, source_names),
    }
    return render(request, "listening/analytics.html", context)


def _source_totals(rows: list[selectors.DailyRow], names: dict[str, str]) -> list[dict[str, Any]]:
    totals: dict[str, dict[str, Any]] = {}
    for row in rows:
        total = totals.setdefault(
            row.key, {"name": names[row.key], "mentions": 0, "negative": 0, "neutral": 0, "positive": 0}
        )
        for field in ("mentions", "negative", "neutral", "positive"):
            total[field] += getattr(row, field)
    return sorted(totals.values(), key=lambda total: -total["mentions"])


ANALYTICS_EXPORTS = ("monitors", "daily", "sources", "authors")


def _analytics_rows(span: AnalyticsRange, table: str) -> Iterator[list[Any]]:
    stats = selectors.listening_analytics(
        monitor_ids=span.monitor_ids, since=span.start, until=span.end, bucket="day"
    )
    names = {str(s.monitor_id): s.name for s in stats}
    if table == "monitors":
        yield ["monitor", "mentions", "share_of_voice", "negative", "neutral", "positive", "top_terms"]
        for s in stats:
            yield [
                s.name, s.mentions, s.share_of_voice, s.tones["negative"], s.tones["neutral"],
                s.tones["positive"], " ".join(s.top_terms),
            ]  # fmt: skip
    elif table == "authors":
        yield ["monitor", "author", "reach"]
        for s in stats:
            for handle, reach in s.top_authors:
                yield [s.name, handle, reach]
    else:
        per_monitor, per_source = selectors.listening_daily(
            monitor_ids=span.monitor_ids, since=span.start, until=span.end
        )
        yield ["day", "monitor" if table == "daily" else "source", "mentions", "negative", "neutral",
               "positive", "mean_tone"]  # fmt: skip
        for row in per_monitor if table == "daily" else per_source:
            key = names.get(row.key, row.key) if table == "daily" else row.key
            yield [
                row.day.isoformat(), key, row.mentions, row.negative, row.neutral, row.positive,
                "" if row.mean_tone is None else row.mean_tone,
            ]  # fmt: skip


@require_GET
@agent_view
def analytics_export(request: HttpRequest, table: str) -> HttpResponse:
    if table not in ANALYTICS_EXPORTS:
        raise InvalidInput(f"export one of {', '.join(ANALYTICS_EXPORTS)}")
    span = _analytics_range(request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    writer = csv.writer(response)
    for row in _analytics_rows(span, table):
        writer.writerow([safe_cell(value) for value in row])
    name = f"firstring-listening-{table}-{span.since.isoformat()}-{span.until.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
