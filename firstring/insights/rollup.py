"""The dashboards' rollup: `DailyInsight` rows per day, channel, team and main topic.

A dashboard over a million messages must not count them on every page view; it sums a few hundred
rollup rows instead. Whatever stores or changes a day's messages (the pipeline, an agent correcting a
tone or a topic) marks the day stale in its own transaction (`rollup_mark_stale`); the worker's
periodic job rebuilds stale days from the stored rows (`rollup_refresh_stale`) under a per-day lock
(`RollupDay`), so the rows are always a count of what is stored, at most one beat of the worker late.
Rebuilding a busy day costs more than analysing a message, so it stays off the path from a message to
its agent. `firstring manage insights_rollup --days N` rebuilds a range (after an import, or to catch a
team change after a conversation's last message).

Service levels and calls are counted here too, so that the dashboard never counts conversations or
calls either: the apps that own their definitions register a source of rows (`rollup_source_register`:
routing's targets met and missed, voice's calls), and mark the day stale when they record what it
counts (a breach, a call's end); a first reply and a status change mark their conversation's day
through the conversations app's hooks.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from django.db import transaction
from django.db.models import Count, DurationField, F, OuterRef, Q, Subquery, Sum
from django.utils import timezone

from firstring.conversations.models import Conversation
from firstring.insights.models import (
    ConversationInsight,
    DailyAgentLift,
    DailyInsight,
    MessageSignal,
    MessageTopic,
    RollupDay,
)

_LIFT_COLUMNS = ("conversations", "lifted", "lift_sum", "improved", "worsened", "responded", "resolved")
_SECONDS_COLUMNS = ("response_seconds", "resolution_seconds")

# Rows of `DailyInsight` columns keyed by (channel, team, topic).
RollupRows = list[tuple[tuple[int, int | None, int | None], dict[str, Any]]]
RollupSource = Callable[[dt.datetime, dt.datetime], RollupRows]
_SOURCES: dict[str, RollupSource] = {}


def rollup_source_register(name: str, source: RollupSource) -> None:
    """An app that owns what some `DailyInsight` columns count gives its rows for [start, end) here."""
    _SOURCES[name] = source


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


def _since_start(field: str) -> Sum:
    return Sum(
        F(f"conversation__{field}") - F("started_at"),
        output_field=DurationField(),
        filter=Q(**{f"conversation__{field}__isnull": False}),
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
            responded=Count("id", filter=Q(conversation__first_response_at__isnull=False)),
            response_seconds=_since_start("first_response_at"),
            resolved=Count("id", filter=Q(conversation__resolved_at__isnull=False)),
            resolution_seconds=_since_start("resolved_at"),
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
                rows[key].update({c: group[c].total_seconds() if group[c] else 0.0 for c in _SECONDS_COLUMNS})
            for source in _SOURCES.values():
                for key, values in source(start, end):
                    rows[key].update(values)
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
        # Usually the day is stale already (every message marks it): one read, no write.
        row, created = RollupDay.objects.get_or_create(day=day, defaults={"stale": True})
        if not created and not row.stale:
            RollupDay.objects.filter(day=day, stale=False).update(stale=True)


def rollup_mark_conversation_stale(conversation_id: int) -> None:
    """A conversation's service levels changed (its first reply, a status): its start day is stale.

    Run by the conversations app's hooks after the change committed, so in a transaction of its own.
    """
    started = Conversation.objects.filter(pk=conversation_id).values_list("created_at", flat=True).first()
    if started is not None:
        with transaction.atomic():
            rollup_mark_stale(days={timezone.localdate(started)})


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
