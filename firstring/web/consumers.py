"""Websocket pushes to agents' screens. Only ids travel; pages fetch what the agent may see."""

from __future__ import annotations

import json
import time
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from firstring.conversations.access import conversation_visible, conversations_visible_to, user_team_ids
from firstring.conversations.live import INBOX_GROUP, conversation_group, user_group
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
        await self._seen()

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:
        # Anything that is not JSON is ignored, not a reason to drop the socket.
        try:
            return json.loads(text_data)
        except ValueError:
            return None

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict):
            return
        if content.get("type") == "ping":
            # The page pings every minute while it is open: the agent is at a screen (routing's presence).
            if time.monotonic() - self.last_seen >= PING_THROTTLE_SECONDS:
                self.last_seen = time.monotonic()
                await self._seen()
        elif content.get("type") in ("watch", "typing"):
            await self._conversation_frame(content)

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "groups_joined", ()):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def user_notice(self, event: dict[str, Any]) -> None:
        # Sent to this user's own group only: their offers changed, the page fetches them.
        await self.send_json({"type": "notice", "kind": event["kind"]})

    async def conversation_changed(self, event: dict[str, Any]) -> None:
        # Every open screen hears of every change: decided from the event and the teams read at the
        # last ping, since a query per screen per change was most of the server's work on a busy floor.
        if conversation_visible(
            self.scope["user"],
            team_ids=self.team_ids,
            team_id=event["team_id"],
            assignee_id=event.get("assignee_id"),
        ):
            await self.send_json(
                {
                    "type": "conversation.changed",
                    "conversation_id": event["conversation_id"],
                    "kind": event["kind"],
                    "message_id": event.get("message_id"),
                }
            )

    async def conversation_typing(self, event: dict[str, Any]) -> None:
        # A customer writes (the chat widget tells): only the page open on that conversation shows it,
        # and it was checked when the page said it watches it, so this costs no query per agent.
        if event.get("by") == "customer" and event["conversation_id"] == getattr(self, "watching", None):
            await self.send_json({"type": "typing", "conversation_id": event["conversation_id"]})

    async def _conversation_frame(self, content: dict[str, Any]) -> None:
        # Which conversation the page shows ("watch"), and that the agent is writing a reply there
        # ("typing", shown in the chat widget).
        conversation_id = content.get("conversation_id")
        if not isinstance(conversation_id, int) or isinstance(conversation_id, bool):
            return
        if content["type"] == "watch":
            self.watching = conversation_id if await self._may_see(conversation_id) else None
            if self.watching is not None:
                await self.send_json({"type": "watching", "conversation_id": conversation_id})
        elif await self._may_see(conversation_id):
            await self.channel_layer.group_send(
                conversation_group(conversation_id),
                {
                    "type": "conversation.typing",
                    "conversation_id": conversation_id,
                    "by": "agent",
                    "name": self.scope["user"].display_name,
                },
            )

    @database_sync_to_async
    def _seen(self) -> None:
        # Presence, and the teams whose changes this screen hears of (re-read while the socket lives).
        user = self.scope["user"]
        presence_seen(user_id=user.pk)
        self.team_ids = frozenset(user_team_ids(user, fresh=True))

    @database_sync_to_async
    def _may_see(self, conversation_id: int) -> bool:
        return conversations_visible_to(self.scope["user"]).filter(pk=conversation_id).exists()
