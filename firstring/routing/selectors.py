"""Reads for the agents' screens: their presence and the offers ringing for them."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from firstring.accounts.models import User
from firstring.lib.errors import NotFound
from firstring.routing.models import AgentState, Notification, RoutingEvent, RoutingTask


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
