"""Every write on conversations and messages goes through a function in this package."""

from firstring.conversations.attachments import InboundAttachment
from firstring.conversations.services.actions import (
    conversation_assign,
    conversation_set_escalated,
    conversation_set_priority,
    conversation_set_status,
    conversation_set_tags,
    conversation_set_team,
    note_add,
)
from firstring.conversations.services.counts import inbox_counts_compact, inbox_counts_rebuild
from firstring.conversations.services.customers import customer_merge, identity_split
from firstring.conversations.services.outbox import (
    deliver_message,
    message_mark_delivery,
    outbox_sweep,
    reply_send,
)
from firstring.conversations.services.receive import Inbound, ReceiveResult, receive_message, receive_messages

__all__ = [
    "Inbound",
    "InboundAttachment",
    "ReceiveResult",
    "conversation_assign",
    "conversation_set_escalated",
    "conversation_set_priority",
    "conversation_set_status",
    "conversation_set_tags",
    "conversation_set_team",
    "customer_merge",
    "deliver_message",
    "identity_split",
    "inbox_counts_compact",
    "inbox_counts_rebuild",
    "message_mark_delivery",
    "note_add",
    "outbox_sweep",
    "receive_message",
    "receive_messages",
    "reply_send",
]
