"""Reads of the insights app: what routing needs to know about a conversation, and the dashboards.

The dashboards read the `DailyInsight` rollup (a few rows a day), never the messages themselves,
except to show example messages and the conversations behind a number (a page at a time).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from django.db.models import Exists, Model, OuterRef, Q, QuerySet, Sum

from firstring.conversations.models import Conversation
from firstring.insights.models import ConversationInsight, DailyAgentLift, DailyInsight, MessageTopic, Topic
from firstring.insights.rollup import day_bounds


@dataclass(frozen=True)
class ConversationSignals:
    language: str
    urgent: bool
    urgency: tuple[str, ...]
    topic_id: int | None
    tone_lift: float | None


def conversation_signals(conversation_ids: Iterable[int]) -> dict[int, ConversationSignals]:
    """Language, urgency and main topic of conversations the engine has read (others are absent)."""
    rows = ConversationInsight.objects.filter(conversation_id__in=list(conversation_ids)).values_list(
        "conversation_id", "language", "urgent", "urgency", "topic_id", "tone_lift"
    )
    return {
        cid: ConversationSignals(language, urgent, tuple(urgency), topic, lift)
        for cid, language, urgent, urgency, topic, lift in rows
    }


@dataclass(frozen=True)
class DashboardFilters:
    since: dt.date
    until: dt.date
    channel_id: int | None = None
    team_id: int | None = None
    topic_id: int | None = None

    def rollup(self) -> QuerySet[DailyInsight]:
        rows = DailyInsight.objects.filter(day__gte=self.since, day__lte=self.until)
        if self.channel_id:
            rows = rows.filter(channel_id=self.channel_id)
        if self.team_id:
            rows = rows.filter(team_id=self.team_id)
        if self.topic_id:
            rows = rows.filter(topic_id=self.topic_id)
        return rows

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        return day_bounds(self.since)[0], day_bounds(self.until)[1]


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def tone_over_time(filters: DashboardFilters) -> list[dict[str, Any]]:
    """Per day and channel: customer messages, their tone counts and mean tone score."""
    rows = (
        filters.rollup()
        .values("day", "channel_id", "channel__name")
        .annotate(
            messages=Sum("messages"),
            negative=Sum("negative"),
            neutral=Sum("neutral"),
            positive=Sum("positive"),
            score=Sum("score_sum"),
            urgent=Sum("urgent"),
        )
        .order_by("day", "channel__name")
    )
    return [
        {
            "day": r["day"],
            "channel_id": r["channel_id"],
            "channel": r["channel__name"],
            "messages": r["messages"],
            "negative": r["negative"],
            "neutral": r["neutral"],
            "positive": r["positive"],
            "urgent": r["urgent"],
            "mean_tone": round((r["score"] or 0.0) / r["messages"], 4) if r["messages"] else 0.0,
        }
        for r in rows
    ]


def summary(filters: DashboardFilters) -> dict[str, Any]:
    totals = filters.rollup().aggregate(
        messages=Sum("messages"),
        negative=Sum("negative"),
        positive=Sum("positive"),
        urgent=Sum("urgent"),
        conversations=Sum("conversations"),
        lifted=Sum("lifted"),
        lift_sum=Sum("lift_sum"),
        improved=Sum("improved"),
        worsened=Sum("worsened"),
    )
    totals = {k: v or 0 for k, v in totals.items()}
    return {
        **totals,
        "negative_share": _share(totals["negative"], totals["messages"]),
        "positive_share": _share(totals["positive"], totals["messages"]),
        "mean_lift": round(totals["lift_sum"] / totals["lifted"], 4) if totals["lifted"] else None,
        "improved_share": _share(totals["improved"], totals["lifted"]),
    }


def top_topics(filters: DashboardFilters, *, limit: int = 10, examples: int = 3) -> list[dict[str, Any]]:
    """The topics with the most customer messages, their tone and a few recent example messages."""
    rows = list(
        filters.rollup()
        .filter(topic__isnull=False)
        .values("topic_id", "topic__name")
        .annotate(messages=Sum("messages"), negative=Sum("negative"), positive=Sum("positive"))
        .filter(messages__gt=0)
        .order_by("-messages", "topic__name")[:limit]
    )
    start, end = filters.bounds()
    result = []
    for row in rows:
        tags = MessageTopic.objects.filter(
            topic_id=row["topic_id"], primary=True, rejected=False, created_at__gte=start, created_at__lt=end
        )
        if filters.channel_id:
            tags = tags.filter(message__channel_id=filters.channel_id)
        if filters.team_id:
            tags = tags.filter(message__conversation__team_id=filters.team_id)
        samples = list(
            tags.order_by("-created_at").values("message_id", "message__conversation_id", "message__text")[
                :examples
            ]
        )
        result.append(
            {
                "topic_id": row["topic_id"],
                "topic": row["topic__name"],
                "messages": row["messages"],
                "negative_share": _share(row["negative"], row["messages"]),
                "positive_share": _share(row["positive"], row["messages"]),
                "examples": [
                    {
                        "message_id": s["message_id"],
                        "conversation_id": s["message__conversation_id"],
                        "text": s["message__text"][:280],
                    }
                    for s in samples
                ],
            }
        )
    return result


TONE_GROUPS = ("channel", "team", "topic")


def tone_by(filters: DashboardFilters, *, by: str) -> list[dict[str, Any]]:
    """Customer messages and their negative share per channel, team or topic, the most messages first."""
    if by not in TONE_GROUPS:
        raise ValueError(f"tone is grouped by one of {', '.join(TONE_GROUPS)}")
    rows = (
        filters.rollup()
        .values(f"{by}_id", f"{by}__name")
        .annotate(messages=Sum("messages"), negative=Sum("negative"))
        .filter(messages__gt=0)
        .order_by("-messages", f"{by}__name")
    )
    return [
        {
            "key": r[f"{by}_id"],
            "name": r[f"{by}__name"] or f"No {by}",
            "messages": r["messages"],
            "negative_share": _share(r["negative"], r["messages"]),
        }
        for r in rows
    ]


LIFT_GROUPS = ("channel", "team", "topic", "agent")


def tone_lift(filters: DashboardFilters, *, by: str) -> list[dict[str, Any]]:
    """Mean tone lift of the conversations started in the range, per channel, team, topic or agent."""
    if by not in LIFT_GROUPS:
        raise ValueError(f"tone lift is grouped by one of {', '.join(LIFT_GROUPS)}")
    if by == "agent":
        # Who holds the conversation, as of its day's last rollup refresh.
        agents = DailyAgentLift.objects.filter(day__gte=filters.since, day__lte=filters.until)
        if filters.channel_id:
            agents = agents.filter(channel_id=filters.channel_id)
        if filters.team_id:
            agents = agents.filter(team_id=filters.team_id)
        if filters.topic_id:
            agents = agents.filter(topic_id=filters.topic_id)
        rows = (
            agents.values("assignee_id", "assignee__name")
            .annotate(
                lifted=Sum("lifted"),
                lift_sum=Sum("lift_sum"),
                improved=Sum("improved"),
                worsened=Sum("worsened"),
            )
            .filter(lifted__gt=0)
            .order_by("-lifted")
        )
        return [
            {
                "key": r["assignee_id"],
                "name": r["assignee__name"] or "Unassigned",
                "lifted": r["lifted"],
                "mean_lift": round(r["lift_sum"] / r["lifted"], 4),
                "improved_share": _share(r["improved"], r["lifted"]),
                "worsened_share": _share(r["worsened"], r["lifted"]),
            }
            for r in rows
        ]
    field = {"channel": "channel", "team": "team", "topic": "topic"}[by]
    grouped = (
        filters.rollup()
        .values(f"{field}_id", f"{field}__name")
        .annotate(
            lifted=Sum("lifted"), lift_sum=Sum("lift_sum"), improved=Sum("improved"), worsened=Sum("worsened")
        )
        .filter(lifted__gt=0)
        .order_by("-lifted")
    )
    return [
        {
            "key": r[f"{field}_id"],
            "name": r[f"{field}__name"] or f"No {by}",
            "lifted": r["lifted"],
            "mean_lift": round(r["lift_sum"] / r["lifted"], 4),
            "improved_share": _share(r["improved"], r["lifted"]),
            "worsened_share": _share(r["worsened"], r["lifted"]),
        }
        for r in grouped
    ]


_SERVICE_SUMS = (
    "conversations",
    "responded",
    "response_seconds",
    "resolved",
    "resolution_seconds",
    "first_response_met",
    "first_response_missed",
    "resolution_met",
    "resolution_missed",
    "calls_offered",
    "calls_answered",
    "calls_abandoned",
    "calls_in_target",
    "answer_seconds",
)


def _mean(total: float, count: int) -> float | None:
    return round(total / count, 1) if count else None


def _attained(met: int, missed: int) -> float | None:
    return round(met / (met + missed), 4) if met + missed else None


def _service_figures(sums: dict[str, Any]) -> dict[str, Any]:
    """Means and shares from the rollup's sums: the same arithmetic for the totals, a row, a day."""
    r = {k: sums.get(k) or 0 for k in _SERVICE_SUMS}
    return {
        **r,
        "response_mean": _mean(r["response_seconds"], r["responded"]),
        "resolution_mean": _mean(r["resolution_seconds"], r["resolved"]),
        "first_response_attainment": _attained(r["first_response_met"], r["first_response_missed"]),
        "resolution_attainment": _attained(r["resolution_met"], r["resolution_missed"]),
        # The phone page's definitions (voice.selectors.call_metrics), from the same counts.
        "asa_seconds": _mean(r["answer_seconds"], r["calls_answered"]),
        "service_level": round(r["calls_in_target"] / r["calls_offered"], 4) if r["calls_offered"] else None,
        "abandonment_rate": round(r["calls_abandoned"] / r["calls_offered"], 4)
        if r["calls_offered"]
        else None,
    }


def service_over_time(filters: DashboardFilters) -> dict[dt.date, dict[str, Any]]:
    rows: list[Any] = list(
        filters.rollup().values("day").annotate(**{k: Sum(k) for k in _SERVICE_SUMS}).order_by("day")
    )
    return {r["day"]: _service_figures(r) for r in rows}


SERVICE_GROUPS = ("channel", "team", "topic")


def service_levels(filters: DashboardFilters) -> dict[str, Any]:
    """First response, resolution and SLA attainment of the conversations started in the range, and
    the calls' answer speed, service level and abandonment, in all (`total`) and per channel, team
    and topic (the most conversations and calls first): from the rollup, never the rows.

    One query, grouped by all three at once (a few hundred rows), summed here into each grouping.
    """
    names = [f"{by}__name" for by in SERVICE_GROUPS]
    rows: list[Any] = list(
        filters.rollup()
        .values(*(f"{by}_id" for by in SERVICE_GROUPS), *names)
        .annotate(**{k: Sum(k) for k in _SERVICE_SUMS})
        .order_by()
    )
    total: dict[str, Any] = defaultdict(int)
    groups: dict[str, dict[int | None, dict[str, Any]]] = {by: {} for by in SERVICE_GROUPS}
    for row in rows:
        for k in _SERVICE_SUMS:
            total[k] += row[k] or 0
        for by in SERVICE_GROUPS:
            group = groups[by].setdefault(row[f"{by}_id"], defaultdict(int, name=row[f"{by}__name"]))
            for k in _SERVICE_SUMS:
                group[k] += row[k] or 0
    result: dict[str, Any] = {"total": _service_figures(total)}
    for by, found in groups.items():
        listed = [
            {"key": key, "name": sums["name"] or f"No {by}", **_service_figures(sums)}
            for key, sums in found.items()
            if sums["conversations"] or sums["calls_offered"]
        ]
        result[by] = sorted(listed, key=lambda r: (-r["conversations"], -r["calls_offered"], r["name"]))
    return result


def _conversations_with(relation: str, **lookups: object) -> Q:
    """Conversations with a row of `relation` (a reverse relation of Conversation) matching `lookups`.

    Routing's breach alerts and voice's calls sit above insights: reached by relation name, not imported.
    """
    model = cast(type[Model], Conversation._meta.get_field(relation).related_model)
    return Q(Exists(model._default_manager.filter(conversation_id=OuterRef("conversation_id"), **lookups)))


# What the drill-down's `service` picks among the conversations started in the range.
SERVICE_DRILLS = {
    "unanswered": Q(conversation__first_response_at__isnull=True),
    "resolved": Q(conversation__resolved_at__isnull=False),
    "unresolved": Q(conversation__resolved_at__isnull=True),
    "first_response_missed": _conversations_with("sla_alerts", kind="breach", target="first_response"),
    "resolution_missed": _conversations_with("sla_alerts", kind="breach", target="resolution"),
    "calls": _conversations_with("calls", queued_at__isnull=False),
    "abandoned": _conversations_with("calls", outcome="abandoned"),
}


def drill_down(
    filters: DashboardFilters,
    *,
    tone: str = "",
    service: str = "",
    day: dt.date | None = None,
    limit: int = 50,
) -> QuerySet[ConversationInsight]:
    """The conversations behind a number: started in the range (or on `day`), newest first.

    `tone` picks those whose customer ended negative/neutral/positive, or "improved"/"worsened";
    `service` one of `SERVICE_DRILLS`.
    """
    start, end = day_bounds(day) if day else filters.bounds()
    rows = ConversationInsight.objects.filter(started_at__gte=start, started_at__lt=end)
    if filters.channel_id:
        rows = rows.filter(channel_id=filters.channel_id)
    if filters.team_id:
        rows = rows.filter(conversation__team_id=filters.team_id)
    if filters.topic_id:
        rows = rows.filter(topic_id=filters.topic_id)
    if tone in ("negative", "neutral", "positive"):
        rows = rows.filter(conversation__tone_latest=tone)
    elif tone == "improved":
        rows = rows.filter(tone_lift__gt=0)
    elif tone == "worsened":
        rows = rows.filter(tone_lift__lt=0)
    elif tone == "urgent":
        rows = rows.filter(urgent=True)
    if service in SERVICE_DRILLS:
        rows = rows.filter(SERVICE_DRILLS[service])
    return rows.select_related(
        "conversation", "conversation__customer", "conversation__assignee", "topic"
    ).order_by("-started_at", "-id")[:limit]


def active_topics() -> QuerySet[Topic]:
    return Topic.objects.filter(active=True).order_by("name")


@dataclass
class MessageInsight:
    """What the engine and the agents said about one customer message, for the conversation page."""

    tone: str = ""
    tone_corrected: bool = False
    language: str = ""
    urgency: list[str] | None = None
    topics: list[MessageTopic] | None = None


def message_insights(message_ids: Iterable[int]) -> dict[int, MessageInsight]:
    """Tone, language, urgency and topics of these messages, in three queries."""
    from firstring.insights.models import MessageSignal, MessageTone

    ids = list(message_ids)
    found: dict[int, MessageInsight] = {i: MessageInsight(urgency=[], topics=[]) for i in ids}
    for message_id, label, corrected in MessageTone.objects.filter(message_id__in=ids).values_list(
        "message_id", "label", "corrected"
    ):
        found[message_id].tone, found[message_id].tone_corrected = label, corrected
    for message_id, language, urgency in MessageSignal.objects.filter(message_id__in=ids).values_list(
        "message_id", "language", "urgency"
    ):
        found[message_id].language, found[message_id].urgency = language, list(urgency)
    for tag in (
        MessageTopic.objects.filter(message_id__in=ids)
        .select_related("topic")
        .order_by("-primary", "-confidence")
    ):
        topics = found[tag.message_id].topics
        assert topics is not None
        topics.append(tag)
    return found
