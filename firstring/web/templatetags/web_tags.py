"""Small presentation helpers for the agents' pages. They return plain text; templates escape it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.utils import timezone

from firstring.channels.registry import get_kind
from firstring.conversations.models import Conversation, ConversationEvent
from firstring.routing.models import RoutingEvent
from firstring.routing.selectors import sla_open_targets
from firstring.web import selectors

register = template.Library()


@register.inclusion_tag("web/routing_bar.html#bar", takes_context=True)
def routing_bar(context: template.Context) -> dict[str, Any]:
    """The agent's presence and ringing offers, rendered with the page so they work from the first moment."""
    return {**selectors.routing_bar(user=context["user"]), "csrf_token": context.get("csrf_token")}


@register.filter
def channel_icon(kind: str) -> str:
    return get_kind(kind).icon


@register.filter
def channel_label(kind: str) -> str:
    return get_kind(kind).label


@register.filter
def duration_since(moment: datetime | None) -> str:
    """A compact age: 45s, 12m, 3h 5m, 2d 4h."""
    if moment is None:
        return ""
    seconds = max(0, int((timezone.now() - moment).total_seconds()))
    if seconds < 60:
        return f"{seconds}s"
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if hours == 0:
        return f"{minutes}m"
    if days == 0:
        return f"{hours}h {minutes % 60}m"
    return f"{days}d {hours % 24}h"


def _who(event: ConversationEvent) -> str:
    return event.actor.display_name if event.actor else "Firstring"


def _value(value: Any, empty: str = "nobody") -> str:
    return str(value) if value not in (None, "") else empty


@register.filter
def event_sentence(event: ConversationEvent) -> str:
    """What happened, in words: "Ana changed the status from open to resolved"."""
    data = event.data or {}
    who = _who(event)
    kind = event.kind
    if kind == ConversationEvent.Kind.STATUS:
        return f"{who} changed the status from {_value(data.get('from'))} to {_value(data.get('to'))}"
    if kind == ConversationEvent.Kind.ASSIGNED:
        if data.get("to") is None:
            return f"{who} unassigned it (was {_value(data.get('from'))})"
        return f"{who} assigned it to {data['to']} (was {_value(data.get('from'))})"
    if kind == ConversationEvent.Kind.TEAM:
        before = _value(data.get("from"), "none")
        return f"{who} moved it to team {_value(data.get('to'), 'none')} (was {before})"
    if kind == ConversationEvent.Kind.PRIORITY:
        return f"{who} changed the priority from {_value(data.get('from'))} to {_value(data.get('to'))}"
    if kind == ConversationEvent.Kind.TAGS:
        parts = []
        if data.get("added"):
            parts.append("added " + ", ".join(map(str, data["added"])))
        if data.get("removed"):
            parts.append("removed " + ", ".join(map(str, data["removed"])))
        return f"{who} {' and '.join(parts) or 'changed the tags'}"
    if kind == ConversationEvent.Kind.MERGED:
        name = data.get("from_name") or f"customer #{data.get('from_customer')}"
        return f"{who} merged {name} into customer #{data.get('into_customer')}"
    if kind == ConversationEvent.Kind.SPLIT:
        return (
            f"{who} split {data.get('identity', 'an identity')} off customer #{data.get('from_customer')} "
            f"to customer #{data.get('to_customer')}"
        )
    if kind == ConversationEvent.Kind.ESCALATED:
        reason = data.get("reason")
        return f"{who} escalated it" + (f": {reason}" if reason else "")
    if kind == ConversationEvent.Kind.DEESCALATED:
        outcome = data.get("outcome")
        return f"{who} resolved the escalation" + (f": {outcome}" if outcome else "")
    if kind in (ConversationEvent.Kind.SLA_WARNING, ConversationEvent.Kind.SLA_BREACHED):
        target = _value(data.get("target"), "a target").replace("_", " ")
        policy = f" ({data['policy']})" if data.get("policy") else ""
        if kind == ConversationEvent.Kind.SLA_WARNING:
            return f"The {target} target{policy} will be missed soon"
        return f"The {target} target{policy} was missed"
    if kind == ConversationEvent.Kind.DELIVERY_FAILED:
        attempts = data.get("attempts")
        after = f" after {attempts} attempts" if attempts else ""
        return f"A reply could not be delivered{after}: {_value(data.get('error'), 'unknown error')}"
    if kind == ConversationEvent.Kind.CREATED:
        return "Conversation started"
    return f"{who}: {event.get_kind_display()}"


@register.filter
def sla_targets(conversation: Conversation) -> list[tuple[str, datetime, bool]]:
    """The service-level targets still open on a conversation: (label, due time, overdue)."""
    now = timezone.now()
    return [(label, due, due <= now) for label, due in sla_open_targets(conversation)]


@register.filter
def duration(seconds: int) -> str:
    """12 s, 4 min 5 s, 2 h 10 min, 3 d 4 h."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    if seconds < 86400:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    return f"{seconds // 86400} d {seconds % 86400 // 3600} h"


@register.filter
def waiting_total(queues: list[Any]) -> int:
    return sum(queue.waiting for queue in queues)


@register.filter
def routing_reason(event: RoutingEvent) -> str:
    """A routing decision in words: "Offered to Ana: longest idle available agent with the skill"."""
    data = event.data or {}
    agent = event.agent.display_name if event.agent else "an agent"
    if event.kind == RoutingEvent.Kind.QUEUED:
        parts = [f"priority {data.get('priority', '?')}"]
        if data.get("tone"):
            parts.append(f"tone {data['tone']}")
        if data.get("needs"):
            parts.append("needs " + ", ".join(map(str, data["needs"])))
        if data.get("urgency"):
            parts.append("urgent: " + ", ".join(map(str, data["urgency"])))
        if data.get("rule"):
            parts.append(f"rule “{data['rule']}”")
        return "Queued: " + ", ".join(parts)
    if event.kind == RoutingEvent.Kind.OFFERED:
        waited = int(data.get("waited_seconds") or 0)
        return f"Offered to {agent}: {data.get('why', 'chosen by the router')} (after {waited} s)"
    if event.kind == RoutingEvent.Kind.CANCELLED:
        return f"Taken off the queue: {data.get('why', '')}"
    return f"{event.get_kind_display()} by {agent}"
