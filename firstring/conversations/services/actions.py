"""Agent actions on a conversation. Each locks the row, records an event and pushes a live update."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from firstring.accounts.models import Tag, Team, User
from firstring.conversations import hooks, live
from firstring.conversations.access import teams_assignable_by
from firstring.conversations.models import Conversation, ConversationEvent, Message
from firstring.conversations.services.sla import conversation_sla_apply
from firstring.lib.errors import Forbidden, InvalidInput, NotFound
from firstring.lib.sanitize import text_to_html

MAX_TAGS = 50


def _locked(conversation: Conversation) -> Conversation:
    return Conversation.objects.select_for_update().get(pk=conversation.pk)


def _record(conversation: Conversation, actor: User | None, kind: str, data: dict[str, Any]) -> None:
    ConversationEvent.objects.create(conversation=conversation, actor=actor, kind=kind, data=data)
    live.publish_after_commit(conversation, kind=kind)


def conversation_set_status(
    *, conversation: Conversation, status: str, actor: User | None, snoozed_until: datetime | None = None
) -> Conversation:
    if status not in Conversation.Status.values:
        raise InvalidInput(f"unknown status {status!r}; use one of {', '.join(Conversation.Status.values)}")
    if status == Conversation.Status.SNOOZED and (snoozed_until is None or snoozed_until <= timezone.now()):
        raise InvalidInput("snoozing needs a snoozed_until time in the future")
    with transaction.atomic():
        conversation = _locked(conversation)
        if conversation.status == status and conversation.snoozed_until == snoozed_until:
            return conversation
        previous = conversation.status
        conversation.status = status
        conversation.snoozed_until = snoozed_until if status == Conversation.Status.SNOOZED else None
        conversation.resolved_at = timezone.now() if status == Conversation.Status.RESOLVED else None
        conversation.updated_at = timezone.now()
        fields = [
            "status",
            "snoozed_until",
            "resolved_at",
            "updated_at",
            *conversation_sla_apply(conversation),
        ]
        conversation.save(update_fields=fields)
        _record(conversation, actor, ConversationEvent.Kind.STATUS, {"from": previous, "to": status})
        conversation_id = conversation.pk
        transaction.on_commit(
            lambda: hooks.status_changed(conversation_id=conversation_id, previous=previous, status=status)
        )
    return conversation


def conversation_assign(
    *, conversation: Conversation, assignee: User | None, actor: User | None, routed: bool = False
) -> Conversation:
    """Assign to a staff user (or nobody). The assignee must be a member of the conversation's team,
    unless the router chose them (routed): after a long wait it looks beyond the team."""
    if assignee is not None:
        if not assignee.is_active:
            raise InvalidInput(f"{assignee.email} is not active")
        if (
            not routed
            and conversation.team_id
            and not assignee.sees_everything
            and not assignee.teams.filter(pk=conversation.team_id).exists()
        ):
            raise InvalidInput(f"{assignee.email} is not a member of this conversation's team")
    with transaction.atomic():
        conversation = _locked(conversation)
        if conversation.assignee_id == (assignee.pk if assignee else None):
            return conversation
        previous = conversation.assignee
        conversation.assignee = assignee
        conversation.updated_at = timezone.now()
        conversation.save(update_fields=["assignee", "updated_at"])
        _record(
            conversation,
            actor,
            ConversationEvent.Kind.ASSIGNED,
            {
                "from": previous.email if previous else None,
                "to": assignee.email if assignee else None,
                **({"routed": True} if routed else {}),
            },
        )
    return conversation


def conversation_set_team(
    *, conversation: Conversation, team: Team | None, actor: User | None, rule: str = ""
) -> Conversation:
    """Move to another team. Without an actor Firstring moves it itself (`rule` names the routing rule)."""
    if actor is not None and team is not None and not teams_assignable_by(actor).filter(pk=team.pk).exists():
        raise Forbidden(f"you cannot move conversations to team {team.name}")
    with transaction.atomic():
        conversation = _locked(conversation)
        if conversation.team_id == (team.pk if team else None):
            return conversation
        previous = conversation.team
        conversation.team = team
        fields = ["team", "updated_at"]
        # An assignee outside the new team would lose sight of it: unassign rather than hide.
        assignee = conversation.assignee
        if (
            team is not None
            and assignee is not None
            and not assignee.sees_everything
            and not assignee.teams.filter(pk=team.pk).exists()
        ):
            conversation.assignee = None
            fields.append("assignee")
        conversation.updated_at = timezone.now()
        conversation.save(update_fields=fields)
        _record(
            conversation,
            actor,
            ConversationEvent.Kind.TEAM,
            {
                "from": previous.name if previous else None,
                "to": team.name if team else None,
                **({"rule": rule} if rule else {}),
            },
        )
    return conversation


def conversation_set_priority(
    *, conversation: Conversation, priority: int, actor: User | None
) -> Conversation:
    if priority not in Conversation.Priority.values:
        raise InvalidInput("unknown priority")
    with transaction.atomic():
        conversation = _locked(conversation)
        if conversation.priority == priority:
            return conversation
        previous = conversation.priority
        conversation.priority = priority
        conversation.updated_at = timezone.now()
        conversation.save(update_fields=["priority", "updated_at", *conversation_sla_apply(conversation)])
        _record(
            conversation,
            actor,
            ConversationEvent.Kind.PRIORITY,
            {
                "from": Conversation.Priority(previous).label.lower(),
                "to": Conversation.Priority(priority).label.lower(),
            },
        )
    return conversation


def conversation_set_escalated(
    *, conversation: Conversation, escalated: bool, actor: User | None, reason: str = ""
) -> Conversation:
    """Mark the conversation escalated to management (the escalations app decides when) or not any more."""
    with transaction.atomic():
        conversation = _locked(conversation)
        if (conversation.escalated_at is not None) == escalated:
            return conversation
        conversation.escalated_at = timezone.now() if escalated else None
        conversation.updated_at = timezone.now()
        conversation.save(update_fields=["escalated_at", "updated_at"])
        if escalated:
            _record(conversation, actor, ConversationEvent.Kind.ESCALATED, {"reason": reason[:500]})
        else:
            _record(conversation, actor, ConversationEvent.Kind.DEESCALATED, {"outcome": reason[:500]})
    return conversation


def conversation_set_tags(
    *, conversation: Conversation, names: Sequence[str], actor: User | None
) -> Conversation:
    """Replace the conversation's tags; unknown tag names are created."""
    cleaned = sorted({name.strip().lower()[:64] for name in names if name.strip()})
    if len(cleaned) > MAX_TAGS:
        raise InvalidInput(f"at most {MAX_TAGS} tags")
    with transaction.atomic():
        conversation = _locked(conversation)
        before = sorted(conversation.tags.values_list("name", flat=True))
        if before == cleaned:
            return conversation
        existing = {tag.name: tag for tag in Tag.objects.filter(name__in=cleaned)}
        for name in cleaned:
            if name not in existing:
                existing[name], _ = Tag.objects.get_or_create(name=name)
        conversation.tags.set(existing.values())
        Conversation.objects.filter(pk=conversation.pk).update(updated_at=timezone.now())
        _record(
            conversation,
            actor,
            ConversationEvent.Kind.TAGS,
            {"added": sorted(set(cleaned) - set(before)), "removed": sorted(set(before) - set(cleaned))},
        )
    return conversation


def note_add(*, conversation: Conversation, author: User, text: str) -> Message:
    """An internal note: visible to staff only, never sent to the customer."""
    if not text.strip():
        raise InvalidInput("a note cannot be empty")
    with transaction.atomic():
        conversation = _locked(conversation)
        note = Message.objects.create(
            conversation=conversation,
            channel_id=conversation.channel_id,
            direction=Message.Direction.NOTE,
            author_user=author,
            text=text,
            html=text_to_html(text),
        )
        conversation.message_count += 1
        conversation.updated_at = timezone.now()
        conversation.save(update_fields=["message_count", "updated_at"])
        live.publish_after_commit(conversation, kind="note", message_id=note.pk)
    return note


def user_get_assignable(user_id: int) -> User:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise NotFound(f"user {user_id} not found")
    return user
