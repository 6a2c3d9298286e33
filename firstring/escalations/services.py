"""Escalating a conversation to a manager: raise, acknowledge, take, resolve, and climb when unanswered."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from firstring.accounts.access import require_manager
from firstring.accounts.models import User
from firstring.channels.registry import escalation_hook
from firstring.conversations.models import Conversation
from firstring.conversations.services import conversation_assign, conversation_set_escalated
from firstring.escalations.models import Escalation, Lesson
from firstring.escalations.selectors import context_pack_text
from firstring.lib.errors import Conflict, InvalidInput
from firstring.routing.models import AgentState, Notification
from firstring.routing.services import staff_notify

MAX_REASON = 2000
LIVE = [Escalation.Status.OPEN, Escalation.Status.ACKNOWLEDGED]


def manager_on_duty(*, conversation: Conversation, exclude: Collection[int] = ()) -> User | None:
    """Who should hear of an escalation: a manager at work before one away, the team's own before
    others, managers before admins, and among those the one with the fewest escalations on hand."""
    present = Exists(AgentState.objects.filter(user=OuterRef("pk"), presence=AgentState.Presence.AVAILABLE))
    on_hand = Subquery(
        Escalation.objects.filter(manager=OuterRef("pk"), status__in=LIVE)
        .values("manager")
        .annotate(n=Count("id"))
        .values("n"),
        output_field=IntegerField(),
    )
    in_team = (
        Exists(User.teams.through.objects.filter(user_id=OuterRef("pk"), team_id=conversation.team_id))
        if conversation.team_id is not None
        else Value(False)
    )
    candidates = (
        User.objects.filter(is_active=True, role__in=[User.Role.MANAGER, User.Role.ADMIN])
        .exclude(pk__in=exclude)
        .annotate(
            present=present,
            in_team=in_team,
            is_manager=Case(When(role=User.Role.MANAGER, then=1), default=0, output_field=IntegerField()),
            on_hand=Coalesce(on_hand, 0),
        )
        .order_by("-present", "-in_team", "-is_manager", "on_hand", "pk")
    )
    return candidates.first()


def escalation_raise(
    *, conversation: Conversation, raised_by: User, reason: str, manager: User | None = None
) -> Escalation:
    """Bring a manager in: the one chosen, or the manager on duty; they are notified at once."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput("say why you escalate: the manager reads it first")
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"the reason is limited to {MAX_REASON} characters")
    if manager is not None and (not manager.is_active or not manager.sees_everything):
        raise InvalidInput(f"{manager.email} is not an active manager")
    target = manager or manager_on_duty(conversation=conversation)
    if target is None:
        raise Conflict("there is no active manager to escalate to")
    now = timezone.now()
    try:
        with transaction.atomic():
            escalation = Escalation.objects.create(
                conversation=conversation,
                raised_by=raised_by,
                reason=reason,
                manager=target,
                asked=[target.pk],
                asked_at=now,
                created_at=now,
            )
            conversation_set_escalated(
                conversation=conversation, escalated=True, actor=raised_by, reason=reason
            )
            _ask(escalation, target, f"{raised_by.display_name} escalated")
            kind, escalation_id = conversation.channel.kind, escalation.pk
            # The channel's plug-in joins in (a live call brings the manager into it).
            transaction.on_commit(lambda: escalation_hook(kind, escalation_id))
    except IntegrityError:
        raise Conflict("this conversation is escalated already") from None
    return escalation


def escalation_acknowledge(*, escalation: Escalation, manager: User) -> Escalation:
    """A manager is on it: the climb stops, and the time to acknowledge is recorded."""
    _require_manager(manager)
    with transaction.atomic():
        escalation = _locked(escalation)
        if escalation.status == Escalation.Status.RESOLVED:
            raise Conflict("this escalation is resolved")
        if escalation.status == Escalation.Status.OPEN:
            escalation.status = Escalation.Status.ACKNOWLEDGED
            escalation.acknowledged_at = timezone.now()
            escalation.manager = manager
            escalation.save(update_fields=["status", "acknowledged_at", "manager"])
    return escalation


def escalation_take(*, escalation: Escalation, manager: User) -> Escalation:
    """The manager takes the conversation over (acknowledging the escalation if nobody has)."""
    escalation = escalation_acknowledge(escalation=escalation, manager=manager)
    conversation_assign(conversation=escalation.conversation, assignee=manager, actor=manager)
    return escalation


def escalation_resolve(
    *, escalation: Escalation, manager: User, outcome: str, lesson_title: str = "", lesson_text: str = ""
) -> Escalation:
    """Close the escalation with what came of it and, optionally, the lesson for everyone."""
    _require_manager(manager)
    outcome = outcome.strip()
    if not outcome:
        raise InvalidInput("say what came of it")
    if bool(lesson_title.strip()) != bool(lesson_text.strip()):
        raise InvalidInput("a lesson needs both a title and what was learned")
    now = timezone.now()
    with transaction.atomic():
        escalation = _locked(escalation)
        if escalation.status == Escalation.Status.RESOLVED:
            raise Conflict("this escalation is resolved already")
        escalation.status = Escalation.Status.RESOLVED
        escalation.acknowledged_at = escalation.acknowledged_at or now
        escalation.resolved_at = now
        escalation.manager = manager
        escalation.outcome = outcome[:MAX_REASON]
        escalation.save(update_fields=["status", "acknowledged_at", "resolved_at", "manager", "outcome"])
        conversation_set_escalated(
            conversation=escalation.conversation, escalated=False, actor=manager, reason=outcome
        )
        if lesson_title.strip():
            lesson_record(
                author=manager,
                title=lesson_title,
                text=lesson_text,
                escalation=escalation,
                conversation=escalation.conversation,
            )
    return escalation


def lesson_record(
    *,
    author: User,
    title: str,
    text: str,
    escalation: Escalation | None = None,
    conversation: Conversation | None = None,
) -> Lesson:
    _require_manager(author)
    title, text = title.strip(), text.strip()
    if not title or not text:
        raise InvalidInput("a lesson needs a title and what was learned")
    if len(title) > 200 or len(text) > 20_000:
        raise InvalidInput("a lesson's title is limited to 200 characters and its text to 20,000")
    return Lesson.objects.create(
        author=author, title=title, text=text, escalation=escalation, conversation=conversation
    )


def escalations_climb(*, now: datetime | None = None) -> int:
    """Escalations nobody acknowledged in time go to the next manager; the number passed on."""
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.FIRSTRING_ESCALATION_ACK_MINUTES)
    climbed = 0
    with transaction.atomic():
        due = (
            Escalation.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=Escalation.Status.OPEN, asked_at__lte=cutoff)
            .select_related("conversation")
            .order_by("asked_at", "id")[:100]
        )
        for escalation in due:
            asked = set(escalation.asked)
            following = manager_on_duty(conversation=escalation.conversation, exclude=asked)
            if following is None:
                # Everyone was asked: start again with the first, so it keeps ringing somewhere.
                following = manager_on_duty(conversation=escalation.conversation)
                if following is None:
                    continue
                escalation.asked = []
            escalation.asked = [*escalation.asked, following.pk]
            escalation.manager = following
            escalation.asked_at = now
            escalation.save(update_fields=["asked", "manager", "asked_at"])
            minutes = settings.FIRSTRING_ESCALATION_ACK_MINUTES
            _ask(escalation, following, f"Unanswered for {minutes} minutes, escalated")
            climbed += 1
    return climbed


def _ask(escalation: Escalation, manager: User, lead: str) -> None:
    conversation = escalation.conversation
    subject = conversation.subject or "no subject"
    staff_notify(
        users=[manager],
        kind=Notification.Kind.ESCALATION,
        text=f"{lead} #{conversation.pk} ({subject}) to you: {escalation.reason[:120]}",
        url=reverse("web:escalation", args=[escalation.pk]),
        details=context_pack_text(escalation=escalation),
    )


def _locked(escalation: Escalation) -> Escalation:
    return (
        Escalation.objects.select_for_update(of=("self",))
        .select_related("conversation")
        .get(pk=escalation.pk)
    )


def _require_manager(user: User) -> None:
    require_manager(user, "only managers handle escalations")
