from __future__ import annotations

import hashlib
import hmac
import json
from typing import TYPE_CHECKING

import httpx

from firstring.channels.registry import DeliveryError, SendResult

if TYPE_CHECKING:
    from firstring.channels.models import Channel
    from firstring.conversations.models import Message

TIMEOUT_SECONDS = 10.0


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def send(*, channel: Channel, message: Message) -> SendResult:
    url = str(channel.config.get("callback_url") or "")
    if not url:
        raise DeliveryError(
            f"channel {channel.slug} has no callback_url to deliver replies to", permanent=True
        )
    recipient = message.recipient
    payload = {
        "event": "message.outbound",
        "message_id": message.pk,
        "conversation_id": message.conversation_id,
        "thread": message.conversation.external_thread or None,
        "to": {"kind": recipient.kind, "network": recipient.network, "value": recipient.value}
        if recipient
        else None,
        "text": message.text,
        "html": message.html,
        "author": message.author_user.display_name if message.author_user else None,
    }
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    secret = str(channel.secrets.get("signing_secret") or "")
    if secret:
        headers["X-Firstring-Signature"] = sign(body, secret)
    try:
        response = httpx.post(url, content=body, headers=headers, timeout=TIMEOUT_SECONDS)
    except httpx.HTTPError as error:
        raise DeliveryError(f"callback unreachable: {error}") from error
    if response.status_code >= 500 or response.status_code == 429:
        raise DeliveryError(f"callback answered {response.status_code}")
    if response.status_code >= 400:
        raise DeliveryError(f"callback refused the message with {response.status_code}", permanent=True)
    external_id = ""
    if response.headers.get("content-type", "").startswith("application/json"):
        try:
            external_id = str(response.json().get("id") or "")[:255]
        except (ValueError, AttributeError):
            external_id = ""
    return SendResult(external_id=external_id, delivered=True)
