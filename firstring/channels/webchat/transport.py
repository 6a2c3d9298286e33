"""Replies to a chat visitor.

The chat's transport is the visitor's websocket, served by this application: the sender checks that the
reply answers a chat of this channel and marks it sent. The outbox's live update for that change reaches
the consumers of the conversation (consumers.py), which push the reply to the visitor's open widget; a
widget that is closed gets it with its history when it connects again. The visitor's browser confirms
what it showed ("seen"), which marks the reply delivered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from firstring.channels.registry import DeliveryError, SendResult

if TYPE_CHECKING:
    from firstring.channels.models import Channel
    from firstring.conversations.models import Message


def external_id_for(message_id: int) -> str:
    return f"chat-{message_id}"


def send(*, channel: Channel, message: Message) -> SendResult:
    if message.conversation.channel_id != channel.pk:
        # A visitor only reads the conversations of the widget they use.
        raise DeliveryError(
            "a chat reply can only answer a conversation of the same chat channel", permanent=True
        )
    return SendResult(external_id=external_id_for(message.pk), delivered=False)
