"""What a chat visitor may read: their own conversations on one chat channel, without internal notes."""

from __future__ import annotations

from typing import Any

from django.core import signing
from django.db.models import Q, QuerySet

from firstring.accounts.models import User
from firstring.channels.models import Channel
from firstring.channels.webchat.identity import Visitor
from firstring.conversations.models import Attachment, Conversation, Message
from firstring.customers.models import Identity
from firstring.customers.services import customer_resolve
from firstring.routing.models import AgentState

HISTORY_LIMIT = 200
# Conversations whose live updates a connected widget follows.
FOLLOWED_CONVERSATIONS = 5

# What a visitor sees: their messages, and replies once the outbox has handed them to the chat.
_VISIBLE = Q(direction=Message.Direction.INBOUND) | Q(
    direction=Message.Direction.OUTBOUND,
    delivery_status__in=(Message.Delivery.SENT, Message.Delivery.DELIVERED),
)


def visitor_customer_id(*, visitor: Visitor) -> int | None:
    """The customer behind the visitor's identity, or None before their first message."""
    claim = visitor.claim
    identity = (
        Identity.objects.select_related("customer")
        .filter(kind=claim.kind, network=claim.network, value=claim.value)
        .first()
    )
    return customer_resolve(identity.customer).pk if identity else None


def _messages(*, channel: Channel, customer_id: int) -> QuerySet[Message]:
    return (
        Message.objects.filter(_VISIBLE, conversation__channel=channel, conversation__customer_id=customer_id)
        .select_related("author_user")
        .prefetch_related("attachments")
    )


def chat_history(*, channel: Channel, customer_id: int, after: int = 0) -> list[dict[str, Any]]:
    """The visitor's messages after the id they saw last (the latest HISTORY_LIMIT when after is 0).

    Within one conversation, message ids follow commit order (receive and reply both lock the
    conversation before they insert), so "after the last id seen" neither skips nor repeats one.
    """
    messages = _messages(channel=channel, customer_id=customer_id)
    if after > 0:
        rows = list(messages.filter(pk__gt=after).order_by("pk")[: HISTORY_LIMIT * 5])
    else:
        rows = list(reversed(messages.order_by("-pk")[:HISTORY_LIMIT]))
    return [message_payload(message) for message in rows]


def chat_message(*, channel: Channel, customer_id: int, message_id: int) -> dict[str, Any] | None:
    """One message for the visitor, or None when it is not theirs to see (yet)."""
    message = _messages(channel=channel, customer_id=customer_id).filter(pk=message_id).first()
    return message_payload(message) if message else None


def followed_conversation_ids(*, channel: Channel, customer_id: int) -> list[int]:
    return list(
        Conversation.objects.filter(channel=channel, customer_id=customer_id)
        .order_by("-last_message_at")
        .values_list("pk", flat=True)[:FOLLOWED_CONVERSATIONS]
    )


def agents_online(*, channel: Channel) -> bool:
    """Whether an agent who could answer (of the channel's team, or anyone without one) is at work."""
    states = AgentState.objects.filter(
        presence__in=(AgentState.Presence.AVAILABLE, AgentState.Presence.BUSY), user__is_active=True
    )
    if channel.team_id is not None:
        states = states.filter(user__teams=channel.team_id)
    return states.exists()


def message_payload(message: Message) -> dict[str, Any]:
    """A message as the widget shows it. Text only: the widget renders it as text, never as HTML."""
    payload: dict[str, Any] = {
        "id": message.pk,
        "from": "visitor" if message.direction == Message.Direction.INBOUND else "agent",
        "text": message.text,
        "at": message.created_at.isoformat(),
    }
    if message.direction == Message.Direction.OUTBOUND:
        payload["agent"] = _agent(message.author_user)
        survey = (message.metadata or {}).get("survey")
        if isinstance(survey, dict) and survey.get("path"):
            # A survey's card: the widget shows a link per score to the survey page.
            payload["survey"] = {"path": survey["path"], "low": survey["low"], "high": survey["high"]}
    files = [a for a in message.attachments.all() if not a.inline]
    if files:
        payload["files"] = [
            {"name": a.filename, "size": a.size, "url": f"/channels/webchat/files/{file_token(a)}"}
            for a in files
        ]
    return payload


FILE_SALT = "firstring.chat.file"


def file_token(attachment: Attachment) -> str:
    """The link to a file of a visitor's conversation: whoever was shown the message may fetch it."""
    return signing.dumps(attachment.pk, salt=FILE_SALT)


def chat_file(*, token: str) -> Attachment | None:
    """The file a link names, if it is still part of a conversation a visitor sees."""
    try:
        attachment_id = signing.loads(token, salt=FILE_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(attachment_id, int):
        return None
    return (
        Attachment.objects.select_related("message__conversation__channel")
        .filter(
            pk=attachment_id,
            message__direction__in=(Message.Direction.INBOUND, Message.Direction.OUTBOUND),
            message__conversation__channel__kind="chat",
        )
        .first()
    )


def _agent(user: User | None) -> dict[str, str]:
    if user is None:
        return {"name": "", "avatar": ""}
    return {"name": user.display_name, "avatar": user.avatar_url}
