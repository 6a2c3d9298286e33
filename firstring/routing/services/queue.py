"""Putting conversations in the queue: one live routing task per conversation that needs an agent."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from firstring.accounts.models import Skill
from firstring.conversations.models import Conversation, Message, Tone
from firstring.routing.models import RoutingEvent, RoutingTask

# The score, as a head start in time: an urgent task ranks as if it had waited 30 minutes more. Every
# waiting task ages at the same rate, so a normal task that has waited longer than that overtakes it.
PRIORITY_HEAD_START = {
    Conversation.Priority.URGENT: timedelta(minutes=30),
    Conversation.Priority.HIGH: timedelta(minutes=10),
    Conversation.Priority.NORMAL: timedelta(0),
    Conversation.Priority.LOW: timedelta(minutes=-10),
}
# An angry customer moves up.
NEGATIVE_TONE_HEAD_START = timedelta(minutes=5)
# The skill level a task prefers for the conversation's language, while it has not waited long.
PREFERRED_LANGUAGE_LEVEL = 3


def tasks_for_messages(message_ids: Sequence[int]) -> None:
    """Pipeline step: queue the conversations of newly received messages that have nobody on them."""
    conversation_ids = set(
        Message.objects.filter(pk__in=message_ids, direction=Message.Direction.INBOUND).values_list(
            "conversation_id", flat=True
        )
    )
    waiting = Conversation.objects.filter(
        pk__in=conversation_ids, assignee__isnull=True, status=Conversation.Status.OPEN
    ).select_related("channel")
    queued = [task for conversation in waiting if (task := task_enqueue(conversation=conversation))]
    if queued:
        from firstring.routing.services.router import route_waiting

        route_waiting(team_ids={task.team_id for task in queued})


def tasks_sweep(*, limit: int = 500) -> int:
    """Queue customers' waiting conversations that have nobody on them and no task yet.

    New messages queue their conversation at once; this catches the rest: conversations from before
    routing was on, and those an agent unassigned while the customer still waits. Oldest wait first.
    """
    live = RoutingTask.objects.filter(
        conversation=OuterRef("pk"), status__in=[RoutingTask.Status.WAITING, RoutingTask.Status.OFFERED]
    )
    unattended = (
        Conversation.objects.filter(
            status=Conversation.Status.OPEN, assignee__isnull=True, waiting_since__isnull=False
        )
        .exclude(Exists(live))
        .select_related("channel")
        .order_by("waiting_since", "id")[:limit]
    )
    return sum(1 for conversation in unattended if task_enqueue(conversation=conversation))


def describe_needs(needs: list[dict[str, Any]]) -> list[str]:
    return [f"{need['name']} ≥ {need['level']}" for need in needs]


def task_rank_at(conversation: Conversation, enqueued_at: datetime) -> datetime:
    head_start = PRIORITY_HEAD_START.get(Conversation.Priority(conversation.priority), timedelta(0))
    if conversation.tone_latest == Tone.NEGATIVE:
        head_start += NEGATIVE_TONE_HEAD_START
    return enqueued_at - head_start


def task_enqueue(*, conversation: Conversation) -> RoutingTask | None:
    """Queue the conversation for an agent; None when it already has a live task."""
    now = timezone.now()
    needs = []
    if conversation.language:
        language = Skill.objects.filter(kind=Skill.Kind.LANGUAGE, name__iexact=conversation.language).first()
        if language is not None:
            needs.append({"skill": language.pk, "name": language.name, "level": PREFERRED_LANGUAGE_LEVEL})
    try:
        with transaction.atomic():
            task = RoutingTask.objects.create(
                conversation=conversation,
                channel_kind=conversation.channel.kind,
                team_id=conversation.team_id,
                enqueued_at=now,
                rank_at=task_rank_at(conversation, now),
                needs=needs,
            )
            RoutingEvent.objects.create(
                task=task,
                kind=RoutingEvent.Kind.QUEUED,
                data={
                    "priority": Conversation.Priority(conversation.priority).label.lower(),
                    "tone": conversation.tone_latest,
                    "head_start_seconds": int((now - task.rank_at).total_seconds()),
                    "needs": describe_needs(needs),
                },
                created_at=now,
            )
    except IntegrityError:
        return None  # the conversation has a live task already (the unique constraint says so)
    return task
