"""The visitor's websocket: /ws/chat/<channel slug>/.

Frames are JSON text of at most MAX_FRAME_CHARS characters. The widget says hello first:

  → {"type": "hello", "token": <visitor token or "">, "after": <last message id seen, or 0>,
     "user": {"id" | "email": …, "hash": <hex HMAC-SHA256>}  (optional: a signed-in user of the site)}
  ← {"type": "welcome", "token": …, "verified": bool, "online": bool, "offline_form": bool, "title": …,
     "greeting": …, "color": …, "prechat": {…}, "messages": [<messages after "after">], "max_file_bytes": …}

then, in any order:

  → {"type": "message", "id": <the widget's id for it>, "text": …, "name"?: …, "email"?: …}
  ← {"type": "ack", "id": …, "message": {…}}        (stored; a resend with the same id is stored once)
  → {"type": "offline", "id": …, "email": …, "text": …, "name"?: …}   (nobody available: by e-mail)
  ← {"type": "offline.ack", "id": …}
  → {"type": "typing"}                               (shown to agents on the conversation)
  ← {"type": "typing", "name": <agent>}              (an agent is writing)
  ← {"type": "message", "message": {"id", "from": "visitor"|"agent", "text", "at",
                                    "agent"?: {"name", "avatar"}, "files"?: [{"name", "size", "url"}]}}
  → {"type": "seen", "id": <highest message id shown>}   (replies up to it are marked delivered)
  → {"type": "sync"}                                 (after a file upload: follow its conversation too)
  ← {"type": "error", "code": 413|422|429, "detail": …}  (the frame was refused, nothing stored)

Files go over HTTP instead: POST /channels/webchat/<slug>/upload (views.upload); the stored message
then arrives here like any other.

A reconnect says hello with the last id it saw and gets what it missed; the widget drops ids it has.
Close codes: 4400 malformed frame or protocol, 4403 origin not allowed or a forged user hash, 4404 no such
chat channel, 4413 frame larger than MAX_FRAME_CHARS. Nothing of a refused frame is stored.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from channels.db import DatabaseSyncToAsync
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from firstring.channels.models import Channel
from firstring.channels.webchat import selectors, services
from firstring.channels.webchat.identity import Visitor, origin_allowed, visitor_identify
from firstring.conversations.live import INBOX_GROUP, conversation_group
from firstring.lib.errors import DomainError, Forbidden, InvalidInput

logger = logging.getLogger(__name__)
T = TypeVar("T")


def _in_thread(fn: Callable[..., T]) -> Callable[..., Awaitable[T]]:
    """Run fn in the thread pool, not in the one thread Channels shares among all consumers by default:
    hundreds of visitors write at once, and each write waits on the database, not on the others."""
    return DatabaseSyncToAsync(fn, thread_sensitive=False)


MAX_FRAME_CHARS = 40_000
# Messages (and offline messages) one connection may send in RATE_WINDOW_SECONDS.
RATE_LIMIT = 20
RATE_WINDOW_SECONDS = 10.0
TYPING_EVERY_SECONDS = 2.0

CLOSE_MALFORMED = 4400
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_TOO_LARGE = 4413


def customer_group(customer_id: int) -> str:
    """A visitor's open widgets: told when one of them started a conversation the others should follow."""
    return f"chat-customer-{customer_id}"


class Refused(Exception):
    def __init__(self, code: int, detail: str) -> None:
        super().__init__(detail)
        self.code = code


class ChatConsumer(AsyncWebsocketConsumer):
    channel_row: Channel | None
    visitor: Visitor | None
    customer_id: int | None

    async def connect(self) -> None:
        self.channel_row = None
        self.visitor = None
        self.customer_id = None
        self.groups_joined: set[str] = set()
        self.sent: set[int] = set()
        self.recent: list[float] = []
        self.typing_at = 0.0
        # Accept first: a refused handshake reaches the page as a bare failure, a close code says why.
        await self.accept()
        slug = str(self.scope["url_route"]["kwargs"].get("slug", ""))
        self.channel_row = await _channel(slug)
        if self.channel_row is None:
            await self._close(CLOSE_NOT_FOUND, f"there is no chat channel {slug[:64]!r}")
            return
        origin = dict(self.scope.get("headers", [])).get(b"origin", b"").decode("latin-1")
        if not origin_allowed(channel=self.channel_row, origin=origin):
            await self._close(CLOSE_FORBIDDEN, f"this site ({origin[:200]!r}) may not embed this chat")

    async def disconnect(self, code: int) -> None:
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.channel_row is None:
            return
        try:
            frame = _parse(text_data, bytes_data)
            kind = frame["type"]
            if self.visitor is None:
                if kind != "hello":
                    raise Refused(CLOSE_MALFORMED, "say hello first")
                await self._hello(frame)
            elif kind == "message":
                await self._message(frame)
            elif kind == "offline":
                await self._offline(frame)
            elif kind == "typing":
                await self._typing()
            elif kind == "seen":
                await self._seen(frame)
            elif kind == "sync":
                await self._resync()
            else:
                raise Refused(CLOSE_MALFORMED, f"unknown frame type {str(kind)[:40]!r}")
        except Refused as refused:
            await self._close(refused.code, str(refused))
        except Forbidden as error:
            await self._close(CLOSE_FORBIDDEN, str(error))
        except DomainError as error:
            logger.info("chat refused a visitor's frame with %s: %s", error.status_code, error)
            await self._send({"type": "error", "code": error.status_code, "detail": str(error)})

    async def _hello(self, frame: dict[str, Any]) -> None:
        assert self.channel_row is not None
        token, user, after = frame.get("token") or "", frame.get("user"), frame.get("after") or 0
        if not isinstance(token, str) or not (user is None or isinstance(user, dict)):
            raise Refused(CLOSE_MALFORMED, "hello has a token (text) and optionally a user (object)")
        if not isinstance(after, int) or isinstance(after, bool) or after < 0:
            raise Refused(CLOSE_MALFORMED, "after is the last message id seen, a whole number")
        try:
            welcome = await self._welcome(token, user, after)
        except InvalidInput as error:
            raise Refused(CLOSE_MALFORMED, str(error)) from None
        for message in welcome["messages"]:
            self.sent.add(message["id"])
        await self._follow()
        await self._send(welcome)

    @_in_thread
    def _welcome(self, token: str, user: dict[str, Any] | None, after: int) -> dict[str, Any]:
        channel = self.channel_row
        assert channel is not None
        self.visitor = visitor_identify(channel=channel, token=token, user=user)
        self.customer_id = selectors.visitor_customer_id(visitor=self.visitor)
        messages = (
            selectors.chat_history(channel=channel, customer_id=self.customer_id, after=after)
            if self.customer_id
            else []
        )
        config = channel.config
        online = selectors.agents_online(channel=channel)
        prechat = config.get("prechat") if isinstance(config.get("prechat"), dict) else {}
        return {
            "type": "welcome",
            "token": self.visitor.token,
            "verified": self.visitor.verified,
            "online": online,
            "offline_form": not online and services.offline_channel(channel) is not None,
            "title": str(config.get("title") or channel.name),
            "greeting": str(config.get("greeting") or "Hi! How can we help?"),
            "color": str(config.get("color") or "#2563eb"),
            "prechat": {k: v for k, v in prechat.items() if k in ("name", "email")},
            "messages": messages,
            "max_file_bytes": settings.FIRSTRING_MAX_ATTACHMENT_BYTES,
        }

    async def _follow(self) -> None:
        """Follow the live updates of the visitor's latest conversations on this channel."""
        if self.customer_id is None:
            return
        ids = await _in_thread(selectors.followed_conversation_ids)(
            channel=self.channel_row, customer_id=self.customer_id
        )
        groups = {customer_group(self.customer_id), *(conversation_group(pk) for pk in ids)}
        for group in groups - self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined |= groups

    async def _resync(self) -> None:
        """A file went in over HTTP, maybe starting the visitor's first conversation: follow it too."""
        if self.customer_id is None:
            assert self.visitor is not None
            self.customer_id = await _in_thread(selectors.visitor_customer_id)(visitor=self.visitor)
        await self._follow()

    def _rate_limited(self) -> bool:
        now = time.monotonic()
        self.recent = [at for at in self.recent if now - at < RATE_WINDOW_SECONDS]
        if len(self.recent) >= RATE_LIMIT:
            return True
        self.recent.append(now)
        return False

    async def _message(self, frame: dict[str, Any]) -> None:
        if self._rate_limited():
            await self._send({"type": "error", "code": 429, "detail": "too many messages; wait a moment"})
            return
        result = await _in_thread(services.chat_message_receive)(
            visitor=self.visitor,
            client_id=frame.get("id"),
            text=frame.get("text"),
            name=frame.get("name"),
            email=frame.get("email"),
        )
        message = await _in_thread(selectors.message_payload)(result.message)
        self.sent.add(message["id"])
        first = self.customer_id is None
        self.customer_id = result.customer.pk
        conversation_id = result.conversation.pk
        await self._send({"type": "ack", "id": frame["id"], "message": message})
        if first or conversation_group(conversation_id) not in self.groups_joined:
            await self._follow()
            # The visitor's other open widgets follow the new conversation too and show this message.
            await self.channel_layer.group_send(
                customer_group(self.customer_id),
                {"type": "chat.follow", "conversation_id": conversation_id, "message_id": message["id"]},
            )

    async def _offline(self, frame: dict[str, Any]) -> None:
        if self._rate_limited():
            await self._send({"type": "error", "code": 429, "detail": "too many messages; wait a moment"})
            return
        await _in_thread(services.chat_offline_receive)(
            visitor=self.visitor,
            client_id=frame.get("id"),
            email=frame.get("email"),
            text=frame.get("text"),
            name=frame.get("name"),
        )
        await self._send({"type": "offline.ack", "id": frame["id"]})

    async def _typing(self) -> None:
        now = time.monotonic()
        if self.customer_id is None or now - self.typing_at < TYPING_EVERY_SECONDS:
            return
        self.typing_at = now
        ids = await _in_thread(selectors.followed_conversation_ids)(
            channel=self.channel_row, customer_id=self.customer_id
        )
        if ids:
            # Agents' screens check that the agent may see the conversation before they show it.
            await self.channel_layer.group_send(
                INBOX_GROUP, {"type": "conversation.typing", "conversation_id": ids[0], "by": "customer"}
            )

    async def _seen(self, frame: dict[str, Any]) -> None:
        up_to = frame.get("id")
        if not isinstance(up_to, int) or isinstance(up_to, bool) or up_to < 0:
            raise Refused(CLOSE_MALFORMED, "seen names the highest message id shown")
        if self.customer_id is not None:
            await _in_thread(services.chat_mark_seen)(
                channel=self.channel_row, customer_id=self.customer_id, up_to=up_to
            )

    # Group events.

    async def conversation_changed(self, event: dict[str, Any]) -> None:
        if event.get("kind") in ("message", "delivery") and event.get("message_id"):
            await self._push(int(event["message_id"]))

    async def chat_follow(self, event: dict[str, Any]) -> None:
        group = conversation_group(int(event["conversation_id"]))
        if group not in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined.add(group)
        await self._push(int(event["message_id"]))

    async def conversation_typing(self, event: dict[str, Any]) -> None:
        if event.get("by") == "agent":
            await self._send({"type": "typing", "name": str(event.get("name") or "")})

    async def _push(self, message_id: int) -> None:
        if message_id in self.sent or self.customer_id is None:
            return
        message = await _in_thread(selectors.chat_message)(
            channel=self.channel_row, customer_id=self.customer_id, message_id=message_id
        )
        if message is not None and message_id not in self.sent:
            self.sent.add(message_id)
            await self._send({"type": "message", "message": message})

    async def _send(self, payload: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(payload))

    async def _close(self, code: int, detail: str) -> None:
        slug = str(self.scope["url_route"]["kwargs"].get("slug", ""))[:64]
        logger.info("chat %s closed a visitor's socket with %s: %s", slug, code, detail)
        await self._send({"type": "error", "code": code, "detail": detail})
        await self.close(code=code)
        self.channel_row = None


def _parse(text_data: str | None, bytes_data: bytes | None) -> dict[str, Any]:
    if text_data is None:
        raise Refused(CLOSE_MALFORMED, "frames are JSON text")
    if len(text_data) > MAX_FRAME_CHARS:
        raise Refused(CLOSE_TOO_LARGE, f"a frame is at most {MAX_FRAME_CHARS} characters")
    try:
        frame = json.loads(text_data)
    except ValueError:
        raise Refused(CLOSE_MALFORMED, "a frame is one JSON object") from None
    if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
        raise Refused(CLOSE_MALFORMED, "a frame is a JSON object with a type")
    return frame


@_in_thread
def _channel(slug: str) -> Channel | None:
    return Channel.objects.filter(slug=slug[:64], kind="chat", enabled=True).first()
