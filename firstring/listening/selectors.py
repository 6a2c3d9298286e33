"""Reads of the listening app: the inbox's filtered mentions, monitors, alerts."""

from __future__ import annotations

from django.db.models import QuerySet

from firstring.insights.classifiers import LABELS
from firstring.lib.errors import InvalidInput
from firstring.listening.models import Alert, Mention, Monitor

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
