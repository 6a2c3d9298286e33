"""Live updates for open agent screens, sent over the Channels layer after a write commits."""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer

logger = logging.getLogger(__name__)

INBOX_GROUP = "inbox"


def conversation_group(conversation_id: int) -> str:
    return f"conversation-{conversation_id}"


def publish_conversation_changed(
    *, conversation_id: int, team_id: int | None, kind: str, message_id: int | None = None
) -> None:
    """Tell open inboxes and the conversation's open pages that something changed.

    Only ids travel; each consumer re-reads what the agent may see, so nothing is leaked by the push.
    """
    layer = get_channel_layer()
    if layer is None:
        return
    payload: dict[str, Any] = {
        "type": "conversation.changed",
        "conversation_id": conversation_id,
        "team_id": team_id,
        "kind": kind,
        "message_id": message_id,
    }
    groups = (INBOX_GROUP, conversation_group(conversation_id))
    if isinstance(layer, InMemoryChannelLayer) and not any(layer.groups.get(g) for g in groups):
        # Nobody in this process listens (a worker, an API-only process): skip the event loop, whose
        # start-up costs more than storing the message did.
        return
    try:
        async_to_sync(_send_all)(layer, groups, payload)
    except Exception:
        # A live update is a convenience; the write has committed and a reload shows it.
        logger.exception("live update for conversation %s failed", conversation_id)


async def _send_all(layer: Any, groups: tuple[str, ...], payload: dict[str, Any]) -> None:
    # One trip through async_to_sync for all groups: each trip starts an event loop.
    for group in groups:
        await layer.group_send(group, payload)
