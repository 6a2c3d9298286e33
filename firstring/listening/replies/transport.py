"""The sender of kind "social": answer the conversation's latest mention through its source."""

from __future__ import annotations

from typing import TYPE_CHECKING

from firstring.channels.registry import DeliveryError, SendResult
from firstring.listening.models import Mention
from firstring.listening.sources import get_kind

if TYPE_CHECKING:
    from firstring.channels.models import Channel
    from firstring.conversations.models import Message


def send(*, channel: Channel, message: Message) -> SendResult:
    # The mention the agent answered (`mention_reply`), else the conversation's latest.
    mentions = Mention.objects.select_related("source", "author").filter(
        conversation_id=message.conversation_id, source__isnull=False
    )
    chosen = (message.metadata or {}).get("listening_mention")
    mention = (mentions.filter(pk=chosen).first() if isinstance(chosen, int) else None) or mentions.order_by(
        "-posted_at", "-id"
    ).first()
    if mention is None or mention.source is None:
        raise DeliveryError(
            "this conversation has no mention from a listening source to answer", permanent=True
        )
    kind = get_kind(mention.source.kind)
    if kind is None or kind.reply is None:
        label = kind.label if kind else mention.source.kind
        raise DeliveryError(f"{label} mentions cannot be answered through the source's API", permanent=True)
    body = message.text.strip()
    if not body:
        raise DeliveryError("the reply has no text", permanent=True)
    if message.attachments.exists():
        raise DeliveryError("replies through a listening source carry text only", permanent=True)
    posted = kind.reply(
        source=mention.source,
        mention=mention,
        text=body,
        private=bool((message.metadata or {}).get("private")),
        key=f"firstring-message-{message.pk}",
    )
    # What the network created is public (or in the author's messages) at once.
    return SendResult(external_id=posted[:255], delivered=True)
