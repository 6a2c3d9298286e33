"""Reads for the agents' screens: their presence and the offers ringing for them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Exists, Min, OuterRef, Q, QuerySet
from django.utils import timezone

from firstring.accounts.models import User
from firstring.conversations.models import Conversation
from firstring.insights.models import ConversationInsight
from firstring.insights.rollup import RollupRows
from firstring.lib.errors import NotFound
from firstring.routing.models import (
    SLA_DUE_FIELDS,
    AgentState,
    Notification,
    RoutingEvent,
    RoutingTask,
    SlaAlert,
)


def agent_presence(*, user: User) -> str:
    presence = AgentState.objects.filter(user=user).values_list("presence", flat=True).first()
    return presence or AgentState.Presence.OFFLINE


def offers_for_agent(*, user: User) -> QuerySet[RoutingTask]:
    """The offers ringing for the agent now, oldest first."""
    return (
        RoutingTask.objects.filter(
            offered_to=user, status=RoutingTask.Status.OFFERED, offer_expires_at__gt=timezone.now()
        )
        .select_related("conversation__customer", "conversation__channel")
        .order_by("offered_at", "id")
    )


def offer_get_for_agent(*, user: User, task_id: int) -> RoutingTask:
    """A task that was offered to this agent (ringing or not any more); others are not found.

    A stale offer (declined, timed out, taken) is found, so that acting on it answers "not offered to
    you any more" (409) rather than pretending it never existed.
    """
    task = (
        RoutingTask.objects.filter(pk=task_id, events__agent=user, events__kind=RoutingEvent.Kind.OFFERED)
        .distinct()
        .first()
    )
    if task is None:
        raise NotFound(f"offer {task_id} not found")
    return task


def notifications_unread(*, user: User, limit: int = 10) -> tuple[list[Notification], int]:
    """The user's latest unread notifications, and how many are unread in all."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    return list(unread.order_by("-created_at", "-id")[:limit]), unread.count()


@dataclass
class QueueRow:
    team: str
    channel_kind: str
    waiting: int
    ringing: int
    longest_wait_seconds: int


@dataclass
class AgentRow:
    user: User
    presence: str
    since: datetime
    held: dict[str, int]
    ringing: int


@dataclass
class Snapshot:
    queues: list[QueueRow]
    agents: list[AgentRow]
    # Conversations started in the window whose first-response target is settled: met in time, missed.
    first_response_met: int
    first_response_missed: int

    @property
    def service_level(self) -> float | None:
        settled = self.first_response_met + self.first_response_missed
        return round(100 * self.first_response_met / settled, 1) if settled else None


def supervisor_snapshot(*, window: timedelta = timedelta(hours=24)) -> Snapshot:
    """Queues by team and channel, agents' states and loads, and the service level now."""
    from firstring.routing.services.router import agent_loads

    now = timezone.now()
    live = RoutingTask.objects.filter(status__in=[RoutingTask.Status.WAITING, RoutingTask.Status.OFFERED])
    rows = (
        live.values("team__name", "channel_kind")
        .annotate(
            waiting=Count("id", filter=Q(status=RoutingTask.Status.WAITING)),
            ringing=Count("id", filter=Q(status=RoutingTask.Status.OFFERED)),
            oldest=Min("enqueued_at"),
        )
        .order_by("team__name", "channel_kind")
    )
    queues = [
        QueueRow(
            team=row["team__name"] or "No team",
            channel_kind=row["channel_kind"],
            waiting=row["waiting"],
            ringing=row["ringing"],
            longest_wait_seconds=int((now - row["oldest"]).total_seconds()),
        )
        for row in rows
    ]
    states = list(
        AgentState.objects.filter(user__is_active=True)
        .exclude(presence=AgentState.Presence.OFFLINE)
        .select_related("user")
        .order_by("presence", "user__name")
    )
    loads = agent_loads(state.user_id for state in states)
    agents = [
        AgentRow(
            user=state.user,
            presence=state.presence,
            since=state.presence_changed_at,
            held=dict(loads[state.user_id].held),
            ringing=sum(loads[state.user_id].ringing.values()),
        )
        for state in states
    ]
    counts = Conversation.objects.filter(created_at__gte=now - window).aggregate(**sla_attainment())
    return Snapshot(
        queues=queues,
        agents=agents,
        first_response_met=counts["first_response_met"],
        first_response_missed=counts["first_response_missed"],
    )


def sla_attainment(conversation: str = "") -> dict[str, Count]:
    """Counts of conversations whose first-response and resolution targets were met or missed.

    Among conversations under a service-level policy: missed when the watch raised the target's
    breach, met when it was reached (replied, resolved) with none; those still inside their target
    count in neither. `conversation` is the path to the conversation from the rows counted ("" when
    they are conversations). The live view and the dashboards' rollup both count with these.
    """
    prefix = f"{conversation}__" if conversation else ""
    under_policy = Q(**{f"{prefix}sla_policy__isnull": False})

    def missed(target: str) -> Q:
        return Q(
            Exists(
                SlaAlert.objects.filter(
                    conversation_id=OuterRef(f"{prefix}pk"), kind=SlaAlert.Kind.BREACH, target=target
                )
            )
        )

    first, resolution = missed(SlaAlert.Target.FIRST_RESPONSE), missed(SlaAlert.Target.RESOLUTION)
    responded = Q(**{f"{prefix}first_response_at__isnull": False})
    resolved = Q(**{f"{prefix}resolved_at__isnull": False})
    return {
        "first_response_met": Count("pk", filter=under_policy & responded & ~first),
        "first_response_missed": Count("pk", filter=under_policy & first),
        "resolution_met": Count("pk", filter=under_policy & resolved & ~resolution),
        "resolution_missed": Count("pk", filter=under_policy & resolution),
    }


def sla_rollup_rows(start: datetime, end: datetime) -> RollupRows:
    """The dashboards' rollup source (registered with `insights.rollup`): attainment of the
    conversations started in [start, end), per channel, team and main topic."""
    rows: list[Any] = list(
        ConversationInsight.objects.filter(started_at__gte=start, started_at__lt=end)
        .values("channel_id", "conversation__team_id", "topic_id")
        .annotate(**sla_attainment("conversation"))
        .order_by()
    )
    return [((r.pop("channel_id"), r.pop("conversation__team_id"), r.pop("topic_id")), r) for r in rows]


def routing_log(*, conversation: Conversation, limit: int = 50) -> list[RoutingEvent]:
    """Every routing decision on the conversation, oldest first: what it asked for, who was offered it and
    why, who passed."""
    return list(
        RoutingEvent.objects.filter(task__conversation=conversation)
        .select_related("agent", "task")
        .order_by("created_at", "id")[:limit]
    )


def sla_open_targets(conversation: Conversation) -> list[tuple[str, datetime]]:
    """The service-level targets still open on a conversation: (label, due time), in target order."""
    return [
        (SlaAlert.Target(target).label, due)
        for target, field in SLA_DUE_FIELDS.items()
        if (due := getattr(conversation, field)) is not None
    ]
