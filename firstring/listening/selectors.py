"""Reads of the listening app: the inbox's filtered mentions, monitors, alerts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db.models import Avg, Count, F, Max, Q, QuerySet
from django.db.models.functions import TruncDate, TruncDay, TruncHour
from django.utils import timezone

from firstring.insights.classifiers import LABELS
from firstring.lib.errors import InvalidInput
from firstring.lib.terms import top_terms
from firstring.listening.models import Alert, Mention, Monitor, MonitorMatch
from firstring.listening.query import parse_query

REACH_LEVELS = {"any": 0, "100": 100, "1000": 1000, "10000": 10000}


def mentions_filtered(
    *,
    monitor_id: int | None = None,
    tone: str | None = None,
    status: str | None = None,
    source: str | None = None,
    min_reach: int | None = None,
    topic_id: int | None = None,
    urgent: bool | None = None,
) -> QuerySet[Mention]:
    """Mentions newest first, narrowed by monitor, tone, triage status, source kind, reach, topic, urgency."""
    queryset = Mention.objects.select_related("assignee", "source", "author", "topic")
    if monitor_id is not None:
        queryset = queryset.filter(matches__monitor_id=monitor_id)
    if tone:
        if tone not in LABELS:
            raise InvalidInput(f"tone must be one of {', '.join(LABELS)}")
        queryset = queryset.filter(tone=tone)
    if status:
        if status not in Mention.Status.values:
            raise InvalidInput(f"status must be one of {', '.join(Mention.Status.values)}")
        queryset = queryset.filter(status=status)
    if source:
        queryset = queryset.filter(source__kind=source)
    if min_reach:
        queryset = queryset.filter(reach__gte=min_reach)
    if topic_id is not None:
        queryset = queryset.filter(topic_id=topic_id)
    if urgent is not None:
        queryset = queryset.filter(urgent=urgent)
    return queryset.order_by("-posted_at", "-id")


def monitors_all() -> QuerySet[Monitor]:
    return Monitor.objects.order_by("name", "id")


def monitors_with_counts(*, days: int = 7) -> QuerySet[Monitor]:
    """Every monitor with `recent` (its matches posted in the last `days`) and `open_alerts`."""
    since = timezone.now() - timedelta(days=days)
    return monitors_all().annotate(
        recent=Count("matches", filter=Q(matches__posted_at__gte=since), distinct=True),
        open_alerts=Count("alerts", filter=Q(alerts__status=Alert.Status.OPEN), distinct=True),
    )


def alerts_recent(*, limit: int = 20) -> list[Alert]:
    return list(
        Alert.objects.select_related("monitor")
        .prefetch_related("samples")
        .order_by("-opened_at", "-id")[:limit]
    )


@dataclass(frozen=True)
class MonitorStats:
    monitor_id: int
    name: str
    mentions: int
    tones: dict[str, int]
    share_of_voice: float
    series: list[tuple[datetime, int, int]]  # (bucket start, mentions, negative)
    top_terms: list[str]
    top_authors: list[tuple[str, int]]  # (handle, reach)


TOP_AUTHORS = 5


def listening_analytics(
    *, monitor_ids: Sequence[int], since: datetime, until: datetime, bucket: str = "day"
) -> list[MonitorStats]:
    """Volume and tone over time per monitor, share of voice between them, top terms and authors.

    Share of voice is each monitor's share of the mentions of the monitors asked about (brand against
    competitors). Counts come from the stored matches, so an edited monitor counts what it matched then.
    """
    if bucket not in ("hour", "day"):
        raise InvalidInput("bucket must be hour or day")
    if since >= until:
        raise InvalidInput("since must be before until")
    monitors = list(Monitor.objects.filter(pk__in=monitor_ids).order_by("name", "id"))
    if len(monitors) != len(set(monitor_ids)):
        raise InvalidInput("unknown monitor id")
    matches = MonitorMatch.objects.filter(monitor__in=monitors, posted_at__gte=since, posted_at__lt=until)
    totals = dict(matches.values_list("monitor_id").annotate(n=Count("id")).order_by())
    tones: dict[int, dict[str, int]] = {m.pk: dict.fromkeys(LABELS, 0) for m in monitors}
    for monitor_id, tone, n in (
        matches.values_list("monitor_id", "mention__tone").annotate(n=Count("id")).order_by()
    ):
        if tone in LABELS:
            tones[monitor_id][tone] = n
    trunc = TruncHour("posted_at", tzinfo=UTC) if bucket == "hour" else TruncDay("posted_at", tzinfo=UTC)
    series: dict[int, list[tuple[datetime, int, int]]] = {m.pk: [] for m in monitors}
    for monitor_id, start, n, negative in (
        matches.annotate(bucket=trunc)
        .values_list("monitor_id", "bucket")
        .annotate(n=Count("id"), negative=Count("id", filter=Q(negative=True)))
        .order_by("monitor_id", "bucket")
    ):
        series[monitor_id].append((start, n, negative))
    everything = sum(totals.values())
    stats = []
    for monitor in monitors:
        recent = list(
            Mention.objects.filter(
                matches__monitor=monitor, posted_at__gte=since, posted_at__lt=until
            ).order_by("-posted_at")[:500]
        )
        words = [word for term in parse_query(monitor.query).terms for word in term.split()]
        authors = (
            matches.filter(monitor=monitor)
            .exclude(mention__author_handle="")
            .values_list("mention__author_handle")
            .annotate(reach=Max("mention__reach"))
            .order_by("-reach", "mention__author_handle")[:TOP_AUTHORS]
        )
        stats.append(
            MonitorStats(
                monitor_id=monitor.pk,
                name=monitor.name,
                mentions=totals.get(monitor.pk, 0),
                tones=tones[monitor.pk],
                share_of_voice=round(totals.get(monitor.pk, 0) / everything, 4) if everything else 0.0,
                series=series[monitor.pk],
                top_terms=top_terms((m.text for m in recent), exclude=words),
                top_authors=[(handle, reach) for handle, reach in authors],
            )
        )
    return stats


@dataclass(frozen=True)
class DailyRow:
    """Mentions of one day (in the current time zone) for one monitor or one source kind."""

    day: date
    key: str  # the monitor's id, or the source kind ("" when the source is gone)
    mentions: int
    negative: int
    neutral: int
    positive: int
    mean_tone: float | None


def _daily(rows: QuerySet[Any, Any]) -> list[DailyRow]:
    return [
        DailyRow(
            day=row["day"],
            key=str(row["key"] or ""),
            mentions=row["mentions"],
            negative=row["negative"],
            neutral=row["neutral"],
            positive=row["positive"],
            mean_tone=None if row["mean_tone"] is None else round(row["mean_tone"], 3),
        )
        for row in rows
    ]


def listening_daily(
    *, monitor_ids: Sequence[int], since: datetime, until: datetime
) -> tuple[list[DailyRow], list[DailyRow]]:
    """Volume and tone per day: (per monitor, keyed by monitor id; per source kind).

    Per monitor counts the monitor's matches; per source counts each mention once however many of the
    monitors it matched.
    """
    if since >= until:
        raise InvalidInput("since must be before until")
    per_monitor = (
        MonitorMatch.objects.filter(monitor_id__in=monitor_ids, posted_at__gte=since, posted_at__lt=until)
        .annotate(day=TruncDate("posted_at"))
        .values("day", key=F("monitor_id"))
        .annotate(
            mentions=Count("id"),
            negative=Count("id", filter=Q(mention__tone="negative")),
            neutral=Count("id", filter=Q(mention__tone="neutral")),
            positive=Count("id", filter=Q(mention__tone="positive")),
            mean_tone=Avg("mention__tone_score"),
        )
        .order_by("day", "key")
    )
    mentions = Mention.objects.filter(
        posted_at__gte=since,
        posted_at__lt=until,
        pk__in=MonitorMatch.objects.filter(
            monitor_id__in=monitor_ids, posted_at__gte=since, posted_at__lt=until
        ).values("mention_id"),
    )
    per_source = (
        mentions.annotate(day=TruncDate("posted_at"))
        .values("day", key=F("source__kind"))
        .annotate(
            mentions=Count("id"),
            negative=Count("id", filter=Q(tone="negative")),
            neutral=Count("id", filter=Q(tone="neutral")),
            positive=Count("id", filter=Q(tone="positive")),
            mean_tone=Avg("tone_score"),
        )
        .order_by("day", "key")
    )
    return _daily(per_monitor), _daily(per_source)
