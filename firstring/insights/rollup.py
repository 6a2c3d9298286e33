"""The dashboards' rollup: `DailyInsight` rows per day, channel, team and main topic.

A dashboard over a million messages must not count them on every page view; it sums a few hundred
rollup rows instead. Whatever stores or changes a day's messages (the pipeline, an agent correcting a
tone or a topic) marks the day stale in its own transaction (`rollup_mark_stale`); the worker's
periodic job rebuilds stale days from the stored rows (`rollup_refresh_stale`) under a per-day lock
(`RollupDay`), so the rows are always a count of what is stored, at most one beat of the worker late.
Rebuilding a busy day costs more than analysing a message, so it stays off the path from a message to
its agent. `firstring manage insights_rollup --days N` rebuilds a range (after an import, or to catch a
team change after a conversation's last message).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import Count, OuterRef, Q, Subquery, Sum
from django.utils import timezone

from firstring.insights.models import (
    ConversationInsight,
    DailyAgentLift,
    DailyInsight,
    MessageSignal,
    MessageTopic,
    RollupDay,
)

_MESSAGE_COLUMNS = ("messages", "negative", "neutral", "positive", "score_sum", "urgent")
_LIFT_COLUMNS = ("conversations", "lifted", "lift_sum", "improved", "worsened")


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
    return start, dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=zone)


def _message_groups(start: dt.datetime, end: dt.datetime) -> list[Any]:
    primary = MessageTopic.objects.filter(message_id=OuterRef("message_id"), primary=True, rejected=False)
    label = "message__tone_analysis__label"
    return list(
        MessageSignal.objects.filter(received_at__gte=start, received_at__lt=end)
        .annotate(topic=Subquery(primary.values("topic_id")[:1]))
        .values("message__channel_id", "message__conversation__team_id", "topic")
        .annotate(
            messages=Count("id"),
            negative=Count("id", filter=Q(**{label: "negative"})),
            neutral=Count("id", filter=Q(**{label: "neutral"})),
            positive=Count("id", filter=Q(**{label: "positive"})),
            score_sum=Sum("message__tone_analysis__score"),
            urgent_count=Count("id", filter=Q(urgent=True)),
        )
        .order_by()
    )


def _lift_groups(start: dt.datetime, end: dt.datetime) -> list[Any]:
    return list(
        ConversationInsight.objects.filter(started_at__gte=start, started_at__lt=end)
        .values("channel_id", "conversation__team_id", "topic_id")
        .annotate(
            conversations=Count("id"),
            lifted=Count("id", filter=Q(tone_lift__isnull=False)),
            lift_sum=Sum("tone_lift"),
            improved=Count("id", filter=Q(tone_lift__gt=0)),
            worsened=Count("id", filter=Q(tone_lift__lt=0)),
        )
        .order_by()
    )


def _agent_groups(start: dt.datetime, end: dt.datetime) -> list[Any]:
    return list(
        ConversationInsight.objects.filter(started_at__gte=start, started_at__lt=end, tone_lift__isnull=False)
        .values("channel_id", "conversation__team_id", "topic_id", "conversation__assignee_id")
        .annotate(
            lifted=Count("id"),
            lift_sum=Sum("tone_lift"),
            improved=Count("id", filter=Q(tone_lift__gt=0)),
            worsened=Count("id", filter=Q(tone_lift__lt=0)),
        )
        .order_by()
    )


def rollup_refresh(*, days: Iterable[dt.date]) -> int:
    """Rebuild the rollup rows of these days; the number of rows written."""
    written = 0
    for day in sorted(set(days)):
        start, end = day_bounds(day)
        with transaction.atomic():
            RollupDay.objects.get_or_create(day=day)
            RollupDay.objects.select_for_update().filter(day=day).update(refreshed_at=timezone.now())
            rows: dict[tuple[int, int | None, int | None], dict[str, Any]] = defaultdict(dict)
            for group in _message_groups(start, end):
                key = (group["message__channel_id"], group["message__conversation__team_id"], group["topic"])
                rows[key].update(
                    messages=group["messages"],
                    negative=group["negative"],
                    neutral=group["neutral"],
                    positive=group["positive"],
                    score_sum=group["score_sum"] or 0.0,
                    urgent=group["urgent_count"],
                )
            for group in _lift_groups(start, end):
                key = (group["channel_id"], group["conversation__team_id"], group["topic_id"])
                rows[key].update({c: group[c] or 0 for c in _LIFT_COLUMNS})
            DailyAgentLift.objects.filter(day=day).delete()
            DailyAgentLift.objects.bulk_create(
                DailyAgentLift(
                    day=day,
                    channel_id=g["channel_id"],
                    team_id=g["conversation__team_id"],
                    topic_id=g["topic_id"],
                    assignee_id=g["conversation__assignee_id"],
                    lifted=g["lifted"],
                    lift_sum=g["lift_sum"] or 0.0,
                    improved=g["improved"],
                    worsened=g["worsened"],
                )
                for g in _agent_groups(start, end)
            )
            DailyInsight.objects.filter(day=day).delete()
            DailyInsight.objects.bulk_create(
                DailyInsight(day=day, channel_id=channel, team_id=team, topic_id=topic, **values)
                for (channel, team, topic), values in rows.items()
            )
            written += len(rows)
    return written


def rollup_mark_stale(*, days: Iterable[dt.date]) -> None:
    """Note, inside the writer's transaction, that these days' rows no longer count what is stored."""
    for day in sorted(set(days)):
        RollupDay.objects.get_or_create(day=day)
        RollupDay.objects.filter(day=day, stale=False).update(stale=True)


def rollup_refresh_stale() -> int:
    """Rebuild the days marked stale; the number of rows written.

    The mark is cleared before the rebuild reads, so a write landing meanwhile marks its day again and
    is counted by the next run.
    """
    days = list(RollupDay.objects.filter(stale=True).values_list("day", flat=True))
    RollupDay.objects.filter(day__in=days).update(stale=False)
    return rollup_refresh(days=days)


def rollup_rebuild(*, since: dt.date, until: dt.date) -> int:
    days = [since + dt.timedelta(days=n) for n in range((until - since).days + 1)]
    return rollup_refresh(days=days)
