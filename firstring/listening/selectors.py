"""Reads of the listening app: the inbox's filtered mentions, monitors, alerts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDay, TruncHour

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
) -> QuerySet[Mention]:
    """Mentions newest first, narrowed by monitor, tone, triage status, source kind and reach."""
    queryset = Mention.objects.select_related("assignee", "source", "author")
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
    return queryset.order_by("-posted_at", "-id")


def monitors_all() -> QuerySet[Monitor]:
    return Monitor.objects.order_by("name", "id")


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
        authors: dict[str, int] = {}
        for mention in recent:
            handle = mention.author_handle or "unknown"
            authors[handle] = max(authors.get(handle, 0), mention.reach)
        stats.append(
            MonitorStats(
                monitor_id=monitor.pk,
                name=monitor.name,
                mentions=totals.get(monitor.pk, 0),
                tones=tones[monitor.pk],
                share_of_voice=round(totals.get(monitor.pk, 0) / everything, 4) if everything else 0.0,
                series=series[monitor.pk],
                top_terms=top_terms((m.text for m in recent), exclude=words),
                top_authors=sorted(authors.items(), key=lambda item: -item[1])[:5],
            )
        )
    return stats
