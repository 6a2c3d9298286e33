"""Watching service levels: a warning before a target is missed, and on a miss the policy's escalation."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from firstring.accounts.models import User
from firstring.conversations import live
from firstring.conversations.models import Conversation, ConversationEvent
from firstring.conversations.services import conversation_assign, conversation_set_priority
from firstring.insights.rollup import rollup_mark_stale
from firstring.routing.models import SLA_DUE_FIELDS, AgentState, Notification, RoutingTask, SlaAlert
from firstring.routing.services.notify import staff_notify
from firstring.routing.services.queue import task_enqueue
from firstring.sla.models import SlaPolicy

# A missed target moves the conversation's routing task up as if it had waited this much longer.
BREACH_HEAD_START = timedelta(minutes=30)


def sla_watch(*, now: datetime | None = None, limit: int = 500) -> int:
    """Raise the warnings and breaches that are due; the number raised. Safe in several workers at once."""
    now = now or timezone.now()
    longest_warning = SlaPolicy.objects.aggregate(m=Max("warn_minutes"))["m"] or 0
    horizon = now + timedelta(minutes=longest_warning)
    raised = 0
    for target, field in SLA_DUE_FIELDS.items():
        breached = SlaAlert.objects.filter(
            conversation=OuterRef("pk"), target=target, kind=SlaAlert.Kind.BREACH, due_at=OuterRef(field)
        )
        due = (
            Conversation.objects.filter(~Q(status=Conversation.Status.RESOLVED), **{f"{field}__lte": horizon})
            .exclude(Exists(breached))
            .select_related("sla_policy", "assignee", "team", "customer")
            .order_by(field, "id")[:limit]
        )
        for conversation in due:
            due_at: datetime = getattr(conversation, field)
            policy = conversation.sla_policy
            if due_at <= now:
                raised += _raise(conversation, target, SlaAlert.Kind.BREACH, due_at, now)
            elif policy is not None and due_at - timedelta(minutes=policy.warn_minutes) <= now:
                raised += _raise(conversation, target, SlaAlert.Kind.WARNING, due_at, now)
    return raised


def _raise(conversation: Conversation, target: str, kind: str, due_at: datetime, now: datetime) -> int:
    label = f"{SlaAlert.Target(target).label} {'missed' if kind == SlaAlert.Kind.BREACH else 'due'}"
    try:
        with transaction.atomic():
            SlaAlert.objects.create(conversation=conversation, target=target, kind=kind, due_at=due_at)
            ConversationEvent.objects.create(
                conversation=conversation,
                kind=ConversationEvent.Kind.SLA_BREACHED
                if kind == SlaAlert.Kind.BREACH
                else ConversationEvent.Kind.SLA_WARNING,
                data={
                    "target": target,
                    "due_at": due_at.isoformat(),
                    "policy": conversation.sla_policy.name if conversation.sla_policy else "",
                },
                created_at=now,
            )
            live.publish_after_commit(conversation, kind="sla")
            subject = conversation.subject or "no subject"
            text = f"{label} for {conversation.customer} (#{conversation.pk}: {subject})"
            url = reverse("web:conversation", args=[conversation.pk])
            if kind == SlaAlert.Kind.WARNING:
                # The agent on it, or the team's managers while nobody is.
                people = [conversation.assignee] if conversation.assignee else team_managers(conversation)
                staff_notify(users=people, kind=Notification.Kind.SLA_WARNING, text=text, url=url)
            else:
                _escalate_breach(conversation, text, url, now)
                # Attainment is counted on the dashboards by the conversation's start day.
                rollup_mark_stale(days={timezone.localdate(conversation.created_at)})
    except IntegrityError:
        return 0  # another worker raised it first
    return 1


def _escalate_breach(conversation: Conversation, text: str, url: str, now: datetime) -> None:
    policy = conversation.sla_policy
    raise_priority = policy.raise_priority if policy else True
    notify_lead = policy.notify_lead if policy else True
    reroute = policy.reroute if policy else True
    people = [conversation.assignee] if conversation.assignee else []
    if notify_lead:
        people += team_managers(conversation)
    staff_notify(users=list(dict.fromkeys(people)), kind=Notification.Kind.SLA_BREACH, text=text, url=url)
    if raise_priority and conversation.priority < Conversation.Priority.URGENT:
        conversation = conversation_set_priority(
            conversation=conversation, priority=conversation.priority + 1, actor=None
        )
    if reroute:
        _reroute(conversation, now)


def _reroute(conversation: Conversation, now: datetime) -> None:
    """Work whose agent is not there goes back to the queue; queued work moves up."""
    assignee = conversation.assignee
    if assignee is not None:
        present = AgentState.objects.filter(user=assignee, presence=AgentState.Presence.AVAILABLE).exists()
        if present:
            return
        conversation = conversation_assign(conversation=conversation, assignee=None, actor=None)
        task_enqueue(conversation=conversation)
    moved = RoutingTask.objects.filter(
        conversation=conversation, status__in=[RoutingTask.Status.WAITING, RoutingTask.Status.OFFERED]
    ).first()
    if moved is not None:
        moved.rank_at = min(moved.rank_at, now - BREACH_HEAD_START)
        moved.save(update_fields=["rank_at"])


def team_managers(conversation: Conversation) -> list[User]:
    """The managers of the conversation's team; all managers for a conversation of no team."""
    managers = User.objects.filter(is_active=True, role__in=[User.Role.MANAGER, User.Role.ADMIN])
    if conversation.team_id is not None:
        in_team = managers.filter(teams=conversation.team_id)
        if in_team.exists():
            return list(in_team)
    return list(managers.filter(role=User.Role.MANAGER)) or list(managers)
