"""Keeping a conversation's service-level due times up to date as it changes."""

from __future__ import annotations

from firstring.conversations.models import Conversation
from firstring.sla.services import SlaBook

SLA_FIELDS = [
    "sla_policy",
    "first_response_due_at",
    "next_response_due_at",
    "resolution_due_at",
    "sla_due_at",
]


def conversation_sla_apply(
    conversation: Conversation,
    *,
    book: SlaBook | None = None,
    channel_kind: str | None = None,
    customer_tier: str | None = None,
) -> list[str]:
    """Set the policy and due times the conversation's state calls for; the names of the fields changed.

    Called by every service that changes what they depend on (a customer message, a reply, a status
    or priority), inside its transaction; the caller saves the fields returned. A batch passes one
    book and the values it has at hand, so that no conversation costs a query.
    """
    book = book if book is not None else SlaBook()
    policy = book.policy_for(
        priority=conversation.priority,
        channel_kind=channel_kind if channel_kind is not None else conversation.channel.kind,
        customer_tier=customer_tier if customer_tier is not None else conversation.customer.tier,
    )
    due = book.due(
        policy,
        created_at=conversation.created_at,
        first_response_at=conversation.first_response_at,
        waiting_since=conversation.waiting_since,
        resolved=conversation.status == Conversation.Status.RESOLVED,
    )
    dues = [d for d in (due.first_response, due.next_response, due.resolution) if d is not None]
    wanted = {
        "sla_policy_id": policy.pk if policy is not None else None,
        "first_response_due_at": due.first_response,
        "next_response_due_at": due.next_response,
        "resolution_due_at": due.resolution,
        "sla_due_at": min(dues, default=None),
    }
    changed = []
    for attribute, value in wanted.items():
        if getattr(conversation, attribute) != value:
            setattr(conversation, attribute, value)
            changed.append(attribute.removesuffix("_id"))
    return changed
