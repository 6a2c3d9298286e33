"""Reads for escalations: the context pack a manager gets, the lists, and the search over lessons."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from firstring.accounts.access import require_manager
from firstring.accounts.models import User
from firstring.conversations.models import Conversation, Message
from firstring.escalations.models import Escalation, Lesson
from firstring.lib.errors import NotFound
from firstring.lib.sanitize import excerpt
from firstring.routing.models import SlaAlert
from firstring.routing.selectors import sla_open_targets

RECENT_MESSAGES = 6
HISTORY = 10


@dataclass
class ContextPack:
    """What a manager needs to act without reading the whole thread first."""

    escalation: Escalation
    conversation: Conversation
    opening: str
    recent: list[Message]
    history: list[Conversation]
    tones: list[str]
    sla_targets: list[tuple[str, datetime]]
    sla_missed: list[SlaAlert] = field(default_factory=list)

    @property
    def tone_trend(self) -> str:
        """First, latest and the way it went: "negative → neutral (better)"."""
        if not self.tones:
            return "unknown"
        order = {"negative": 0, "neutral": 1, "positive": 2}
        first, last = self.tones[0], self.tones[-1]
        direction = (
            "better" if order[last] > order[first] else "worse" if order[last] < order[first] else "unchanged"
        )
        return f"{first} → {last} ({direction})" if len(self.tones) > 1 else first


def context_pack(*, escalation: Escalation) -> ContextPack:
    conversation = Conversation.objects.select_related(
        "customer", "channel", "assignee", "team", "sla_policy"
    ).get(pk=escalation.conversation_id)
    messages = Message.objects.filter(conversation=conversation).select_related(
        "author_user", "author_customer"
    )
    opening = messages.filter(direction=Message.Direction.INBOUND).order_by("created_at", "id").first()
    recent = list(messages.order_by("-created_at", "-id")[:RECENT_MESSAGES])[::-1]
    history = list(
        Conversation.objects.filter(customer_id=conversation.customer_id)
        .exclude(pk=conversation.pk)
        .select_related("channel")
        .order_by("-last_message_at")[:HISTORY]
    )
    tones = list(
        messages.filter(direction=Message.Direction.INBOUND)
        .exclude(tone="")
        .order_by("created_at", "id")
        .values_list("tone", flat=True)
    )
    missed = list(SlaAlert.objects.filter(conversation=conversation, kind=SlaAlert.Kind.BREACH))
    return ContextPack(
        escalation=escalation,
        conversation=conversation,
        opening=excerpt(opening.text, 500) if opening else "",
        recent=recent,
        history=history,
        tones=tones,
        sla_targets=sla_open_targets(conversation),
        sla_missed=missed,
    )


def context_pack_text(*, escalation: Escalation) -> str:
    """The context pack as plain text, for the e-mail."""
    pack = context_pack(escalation=escalation)
    c = pack.conversation
    lines = [
        f"Reason: {escalation.reason}",
        "",
        f"Conversation #{c.pk}: {c.subject or '(no subject)'} · {c.channel.kind} · {c.get_status_display()}"
        f" · {c.get_priority_display()} priority · {c.assignee or 'unassigned'}",
        f"Customer: {c.customer}" + (f" (tier: {c.customer.tier})" if c.customer.tier else ""),
        f"Tone: {pack.tone_trend}",
    ]
    if pack.sla_targets or pack.sla_missed:
        due = ", ".join(f"{label} due {due:%Y-%m-%d %H:%M} UTC" for label, due in pack.sla_targets)
        missed = ", ".join(f"{a.get_target_display()} missed" for a in pack.sla_missed)
        lines.append("Service level: " + "; ".join(part for part in (due, missed) if part))
    if pack.opening:
        lines += ["", "How it started:", pack.opening]
    if pack.recent:
        lines += ["", "Latest messages:"]
        for message in pack.recent:
            who = message.author_user or message.author_customer or "?"
            lines.append(f"- [{message.get_direction_display()}] {who}: {excerpt(message.text, 200)}")
    if pack.history:
        lines += ["", "Other conversations of this customer:"]
        for other in pack.history:
            subject = other.subject or "(no subject)"
            lines.append(f"- #{other.pk} {other.channel.kind} {other.get_status_display()}: {subject}")
    return "\n".join(lines)


def escalation_get_for_manager(*, user: User, escalation_id: int) -> Escalation:
    require_manager(user, "only managers handle escalations")
    escalation = (
        Escalation.objects.select_related("conversation", "raised_by", "manager")
        .filter(pk=escalation_id)
        .first()
    )
    if escalation is None:
        raise NotFound(f"escalation {escalation_id} not found")
    return escalation


def escalations_live() -> QuerySet[Escalation]:
    """Open and acknowledged escalations, oldest first."""
    return (
        Escalation.objects.filter(status__in=[Escalation.Status.OPEN, Escalation.Status.ACKNOWLEDGED])
        .select_related("conversation__customer", "raised_by", "manager")
        .order_by("created_at", "id")
    )


def lessons_search(*, query: str = "", limit: int = 50) -> list[Lesson]:
    """Lessons whose title or text hold every word of the query, newest first."""
    lessons = Lesson.objects.select_related("author", "conversation")
    for word in query.split()[:10]:
        lessons = lessons.filter(Q(title__icontains=word) | Q(text__icontains=word))
    return list(lessons.order_by("-created_at", "-id")[:limit])


def lessons_between(*, start: datetime, end: datetime, limit: int = 10) -> list[Lesson]:
    """Lessons recorded in [start, end), newest first."""
    return list(
        Lesson.objects.filter(created_at__gte=start, created_at__lt=end)
        .select_related("author", "conversation")
        .order_by("-created_at", "-id")[:limit]
    )


def escalations_between(*, start: datetime, end: datetime) -> int:
    return Escalation.objects.filter(created_at__gte=start, created_at__lt=end).count()


def escalation_live_for(*, conversation: Conversation) -> Escalation | None:
    return (
        Escalation.objects.filter(
            conversation=conversation, status__in=[Escalation.Status.OPEN, Escalation.Status.ACKNOWLEDGED]
        )
        .select_related("manager", "raised_by")
        .first()
    )


def managers() -> QuerySet[User]:
    return User.objects.filter(is_active=True, role__in=[User.Role.MANAGER, User.Role.ADMIN]).order_by("name")


@dataclass
class EscalationSummary:
    live: list[Escalation]
    unacknowledged: int
    longest_unacknowledged_seconds: int


def escalations_summary() -> EscalationSummary:
    """What a supervisor sees of the open escalations."""
    live = list(escalations_live()[:50])
    waiting = [e for e in live if e.status == Escalation.Status.OPEN]
    now = timezone.now()
    longest = max((int((now - e.created_at).total_seconds()) for e in waiting), default=0)
    return EscalationSummary(live=live, unacknowledged=len(waiting), longest_unacknowledged_seconds=longest)
