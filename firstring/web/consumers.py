"""Websocket pushes to agents' screens. Only ids travel; pages fetch what the agent may see."""

from __future__ import annotations

import json
import time
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from firstring.conversations.access import conversations_visible_to
from firstring.conversations.live import INBOX_GROUP, user_group
from firstring.routing.services import presence_seen

# Pings closer together than this are not written down (a page could ping as fast as it likes).
PING_THROTTLE_SECONDS = 30


class LiveConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.groups_joined = (INBOX_GROUP, user_group(user.pk))
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        self.last_seen = time.monotonic()
        await database_sync_to_async(presence_seen)(user_id=user.pk)

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:
        # A page sends only pings; anything that is not JSON is ignored, not a reason to drop the socket.
        try:
            return json.loads(text_data)
        except ValueError:
            return None

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        # The page pings every minute while it is open: the agent is at a screen (routing's presence).
        pinged = isinstance(content, dict) and content.get("type") == "ping"
        if pinged and time.monotonic() - self.last_seen >= PING_THROTTLE_SECONDS:
            self.last_seen = time.monotonic()
            await database_sync_to_async(presence_seen)(user_id=self.scope["user"].pk)

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "groups_joined", ()):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def user_notice(self, event: dict[str, Any]) -> None:
        # Sent to this user's own group only: their offers changed, the page fetches them.
        await self.send_json({"type": "notice", "kind": event["kind"]})

    async def conversation_changed(self, event: dict[str, Any]) -> None:
        if await self._may_see(event["conversation_id"]):
            await self.send_json(
                {
                    "type": "conversation.changed",
                    "conversation_id": event["conversation_id"],
                    "kind": event["kind"],
                    "message_id": event.get("message_id"),
                }
            )

    @database_sync_to_async
    def _may_see(self, conversation_id: int) -> bool:
        return conversations_visible_to(self.scope["user"]).filter(pk=conversation_id).exists()
