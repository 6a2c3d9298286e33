"""Live updates for open agent screens, sent over the Channels layer after a write commits."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer

logger = logging.getLogger(__name__)

INBOX_GROUP = "inbox"


def conversation_group(conversation_id: int) -> str:
    return f"conversation-{conversation_id}"


@dataclass(frozen=True)
class Change:
    conversation_id: int
    team_id: int | None
    kind: str
    message_id: int | None = None


def publish_conversation_changed(
    *, conversation_id: int, team_id: int | None, kind: str, message_id: int | None = None
) -> None:
    publish_changes([Change(conversation_id, team_id, kind, message_id)])


def publish_changes(changes: Sequence[Change]) -> None:
    """Tell open inboxes and the conversations' open pages that something changed.

    Only ids travel; each consumer re-reads what the agent may see, so nothing is leaked by the push.
    """
    layer = get_channel_layer()
    if layer is None or not changes:
        return
    sends = [
        (group, _payload(change))
        for change in changes
        for group in (INBOX_GROUP, conversation_group(change.conversation_id))
    ]
    if isinstance(layer, InMemoryChannelLayer) and not any(layer.groups.get(group) for group, _ in sends):
        # Nobody in this process listens (a worker, an API-only process): skip the event loop, whose
        # start-up costs more than storing the message did.
        return
    try:
        async_to_sync(_send_all)(layer, sends)
    except Exception:
        # A live update is a convenience; the write has committed and a reload shows it.
        logger.exception(
            "live update for conversations %s failed", sorted({c.conversation_id for c in changes})
        )


def _payload(change: Change) -> dict[str, Any]:
    return {
        "type": "conversation.changed",
        "conversation_id": change.conversation_id,
        "team_id": change.team_id,
        "kind": change.kind,
        "message_id": change.message_id,
    }


async def _send_all(layer: Any, sends: list[tuple[str, dict[str, Any]]]) -> None:
    # One trip through async_to_sync for all groups: each trip starts an event loop.
    for group, payload in sends:
        await layer.group_send(group, payload)
