"""Live updates for open agent screens, sent over the Channels layer after a write commits."""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings
from django.db import transaction

from firstring.lib.errors import Forbidden, InvalidInput

if TYPE_CHECKING:
    from firstring.conversations.models import Conversation

logger = logging.getLogger(__name__)

INBOX_GROUP = "inbox"


def conversation_group(conversation_id: int) -> str:
    return f"conversation-{conversation_id}"


@dataclass(frozen=True)
class Change:
    conversation_id: int
    # Where the conversation sits when the change is made: consumers decide from these alone whether
    # an agent may hear of it (`access.conversation_visible`), with no query per open screen.
    team_id: int | None
    assignee_id: int | None
    kind: str
    message_id: int | None = None

    @classmethod
    def of(cls, conversation: Conversation, kind: str, message_id: int | None = None) -> Change:
        return cls(conversation.pk, conversation.team_id, conversation.assignee_id, kind, message_id)


def publish_after_commit(conversation: Conversation, *, kind: str, message_id: int | None = None) -> None:
    """Publish a change of this conversation once the current transaction commits (at once outside one)."""
    change = Change.of(conversation, kind, message_id)
    transaction.on_commit(lambda: publish_changes([change]))


def publish_changes(changes: Sequence[Change]) -> None:
    """Tell open inboxes and the conversations' open pages that something changed.

    Only ids travel, and each consumer passes on only what the agent may see.
    """
    _publish(
        [
            (group, _payload(change))
            for change in changes
            for group in (INBOX_GROUP, conversation_group(change.conversation_id))
        ]
    )


def user_group(user_id: int) -> str:
    return f"user-{user_id}"


def publish_notice(*, user_ids: Sequence[int], kind: str) -> None:
    """Tell a user's open screens that something of theirs changed (kind "offer": their offers)."""
    _publish([(user_group(user_id), {"type": "user.notice", "kind": kind}) for user_id in user_ids])


def _payload(change: Change) -> dict[str, Any]:
    return {
        "type": "conversation.changed",
        "conversation_id": change.conversation_id,
        "team_id": change.team_id,
        "assignee_id": change.assignee_id,
        "kind": change.kind,
        "message_id": change.message_id,
    }


def _publish(sends: list[tuple[str, dict[str, Any]]]) -> None:
    layer = get_channel_layer()
    if layer is None or not sends:
        return
    if isinstance(layer, InMemoryChannelLayer) and not any(layer.groups.get(group) for group, _ in sends):
        # Nobody in this process listens (a worker, an API-only process): skip the event loop, whose
        # start-up costs more than storing the message did. A worker that `firstring serve` started
        # hands its updates to the server process, where the agents' websockets are.
        if settings.FIRSTRING_LIVE_FORWARD_URL:
            _forward(sends)
        return
    try:
        async_to_sync(_send_all)(layer, sends)
    except Exception:
        # A live update is a convenience; the write has committed and a reload shows it.
        logger.exception("live update to %s failed", sorted({group for group, _ in sends})[:10])


# What a forwarded update may carry: the groups and message types this module sends, nothing else.
_GROUP_RE = re.compile(r"^(inbox|conversation-\d{1,19}|user-\d{1,19})$")
_FORWARDED_TYPES = frozenset({"conversation.changed", "user.notice"})
_MAX_FORWARDED = 1000


def forward_signature(body: bytes) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), body, hashlib.sha256).hexdigest()


@functools.cache
def _forward_client() -> httpx.Client:
    # One kept-alive connection for the process: a new client builds an SSL context and a new
    # connection each time, which cost more than the rest of the offer's path to the screen.
    return httpx.Client(timeout=2)


def _forward(sends: list[tuple[str, dict[str, Any]]]) -> None:
    body = json.dumps({"sends": sends}).encode()
    try:
        response = _forward_client().post(
            settings.FIRSTRING_LIVE_FORWARD_URL,
            content=body,
            headers={"Content-Type": "application/json", "X-Firstring-Signature": forward_signature(body)},
        )
        response.raise_for_status()
    except httpx.HTTPError:
        logger.warning(
            "could not hand live updates to %s", settings.FIRSTRING_LIVE_FORWARD_URL, exc_info=True
        )


def publish_forwarded(*, body: bytes, signature: str) -> None:
    """Publish updates a worker forwarded; Forbidden for a bad signature, InvalidInput for a bad body."""
    if not hmac.compare_digest(forward_signature(body), signature):
        raise Forbidden("bad signature")
    try:
        sends = json.loads(body)["sends"]
        if not isinstance(sends, list) or len(sends) > _MAX_FORWARDED:
            raise ValueError("sends must be a list of at most 1000 updates")
        checked = []
        for group, payload in sends:
            if not isinstance(group, str) or not _GROUP_RE.match(group):
                raise ValueError(f"unknown group {str(group)[:40]!r}")
            if not isinstance(payload, dict) or payload.get("type") not in _FORWARDED_TYPES:
                raise ValueError("unknown update type")
            if not all(isinstance(v, str | int | None) for v in payload.values()):
                raise ValueError("updates carry ids and names only")
            checked.append((group, payload))
    except (ValueError, TypeError, KeyError) as error:
        raise InvalidInput(f"not a live update: {error}") from None
    _publish(checked)


async def _send_all(layer: Any, sends: list[tuple[str, dict[str, Any]]]) -> None:
    # One trip through async_to_sync for all groups: each trip starts an event loop.
    for group, payload in sends:
        await layer.group_send(group, payload)
