"""Twilio's webhooks, once their signature is checked: an incoming message, or a reply's delivery status.

`parse_message` is pure (form parameters in, `IncomingText` out). `twilio_receive` is the whole path of one
incoming message: it skips a MessageSid stored before, lets a survey take a score texted back (the
registry's answer takers), fetches the MMS/WhatsApp media from Twilio's API (authenticated,
size-limited), hands the message to the receive service and applies an opt-out keyword.
`twilio_status_apply` turns a StatusCallback into `message_mark_delivery`.
"""

from __future__ import annotations

import logging
import mimetypes
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.db import transaction

from firstring.channels.models import Channel
from firstring.channels.registry import answer_taken
from firstring.channels.twilio.client import (
    TIMEOUT_SECONDS,
    WHATSAPP_PREFIX,
    MissingCredentials,
    api_origin,
    is_whatsapp,
    max_media_bytes,
    rest_credentials,
)
from firstring.channels.twilio.optout import keyword_action, opt_out_set
from firstring.conversations.attachments import InboundAttachment
from firstring.conversations.models import Message
from firstring.conversations.services import Inbound, ReceiveResult, message_mark_delivery, receive_message
from firstring.conversations.services.receive import MAX_TEXT_CHARS
from firstring.customers.identities import IdentityClaim, InvalidIdentity, normalize_phone
from firstring.customers.models import Identity
from firstring.lib.errors import InvalidInput

logger = logging.getLogger(__name__)

# SM… for SMS, MM… for MMS (WhatsApp messages are SM/MM too): two letters and 32 hex digits.
_SID_RE = re.compile(r"^[A-Z]{2}[0-9a-fA-F]{32}$")
MAX_MEDIA = 10  # Twilio's limit per message
MEDIA_SECONDS = 12.0
_OTHER_CHANNEL_PREFIXES = ("whatsapp:", "messenger:", "rcs:", "fbm:")


@dataclass(frozen=True)
class Media:
    url: str
    content_type: str


@dataclass(frozen=True)
class IncomingText:
    """One incoming SMS, MMS or WhatsApp message as Twilio described it."""

    sid: str
    phone: str  # the sender, E.164
    body: str
    media: list[Media]
    name: str
    opt_out_type: str
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Received:
    # None: the text was taken as an answer (a survey's score), not stored as a message.
    message: Message | None
    created: bool


def _one(params: Mapping[str, str], name: str) -> str:
    return str(params.get(name) or "").replace("\x00", "").strip()


def _sender(channel: Channel, value: str) -> str:
    if not value:
        raise InvalidInput("the webhook has no From")
    if is_whatsapp(channel):
        if not value.startswith(WHATSAPP_PREFIX):
            raise InvalidInput(
                f"a WhatsApp channel got a message from {value[:60]!r}, not a whatsapp: address"
            )
        value = value.removeprefix(WHATSAPP_PREFIX)
    elif value.lower().startswith(_OTHER_CHANNEL_PREFIXES):
        raise InvalidInput(
            f"an SMS channel got a message from {value[:60]!r}: point that sender at a channel of its kind"
        )
    if not value.startswith("+"):
        # Twilio writes numbers in E.164; a short code or name is not a number we could answer.
        raise InvalidInput(f"the sender {value[:60]!r} is not a phone number in E.164 format")
    try:
        return normalize_phone(value)
    except InvalidIdentity as error:
        raise InvalidInput(str(error)) from None


def _media(params: Mapping[str, str]) -> list[Media]:
    raw = _one(params, "NumMedia") or "0"
    if not re.fullmatch(r"[0-9]{1,2}", raw) or int(raw) > MAX_MEDIA:
        raise InvalidInput(f"NumMedia must be a whole number from 0 to {MAX_MEDIA}, not {raw[:20]!r}")
    media = []
    for index in range(int(raw)):
        url = _one(params, f"MediaUrl{index}")
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
            raise InvalidInput(f"MediaUrl{index} is missing or not an http(s) URL")
        content_type = _one(params, f"MediaContentType{index}").lower() or "application/octet-stream"
        media.append(Media(url=url, content_type=content_type[:127]))
    return media


def _location(params: Mapping[str, str]) -> dict[str, str]:
    found = {key.lower(): _one(params, key)[:200] for key in ("Latitude", "Longitude", "Address", "Label")}
    return {key: value for key, value in found.items() if value}


def parse_message(channel: Channel, params: Mapping[str, str]) -> IncomingText:
    """Read an incoming-message webhook. Raises InvalidInput for what Twilio would never send."""
    sid = _one(params, "MessageSid") or _one(params, "SmsMessageSid") or _one(params, "SmsSid")
    if not _SID_RE.match(sid):
        raise InvalidInput("the webhook has no valid MessageSid (two letters and 32 hex digits)")
    phone = _sender(channel, _one(params, "From"))
    body = str(params.get("Body") or "").replace("\x00", "")
    if len(body) > MAX_TEXT_CHARS:
        raise InvalidInput(f"Body is longer than {MAX_TEXT_CHARS} characters")
    media = _media(params)
    twilio: dict[str, Any] = {"message_sid": sid, "to": _one(params, "To")[:64]}
    for param, key in (("NumSegments", "num_segments"), ("WaId", "wa_id"), ("MessageType", "message_type")):
        if _one(params, param):
            twilio[key] = _one(params, param)[:64]
    location = _location(params)
    if location:
        twilio["location"] = location
    if not body.strip():
        # A WhatsApp location or quick-reply button comes without a Body.
        if location.get("latitude") and location.get("longitude"):
            label = location.get("label") or location.get("address") or ""
            body = f"📍 Location: {location['latitude']}, {location['longitude']}" + (
                f" ({label})" if label else ""
            )
        elif _one(params, "ButtonText"):
            body = _one(params, "ButtonText")
    if not body.strip() and not media:
        raise InvalidInput("the message has no Body and no media")
    return IncomingText(
        sid=sid,
        phone=phone,
        body=body,
        media=media,
        name=_one(params, "ProfileName")[:200],
        opt_out_type=_one(params, "OptOutType"),
        metadata=twilio,
    )


def fetch_media(channel: Channel, media: list[Media]) -> tuple[list[InboundAttachment], list[dict[str, str]]]:
    """Download the message's media from Twilio: (stored attachments, what was left out and why).

    Only URLs on the channel's API host are fetched, with the account's credentials (Twilio's media
    URLs need them when HTTP authentication is on); Twilio redirects to its media store, which gets no
    credentials. A file over the size limit or a failed download is listed, never silently dropped.
    """
    limit = max_media_bytes(channel)
    attachments: list[InboundAttachment] = []
    skipped: list[dict[str, str]] = []
    if not media:
        return attachments, skipped
    try:
        username, password, _ = rest_credentials(channel)
        auth: tuple[str, str] | None = (username, password)
    except MissingCredentials:
        auth = None
    origin = api_origin(channel)
    # Twilio waits 15 seconds for the webhook's answer: what is not fetched by then is listed instead.
    deadline = time.monotonic() + MEDIA_SECONDS
    with httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=True, max_redirects=5) as client:
        for index, item in enumerate(media):
            parts = urlsplit(item.url)
            reason = ""
            left = deadline - time.monotonic()
            if (parts.scheme, parts.netloc.lower()) != origin:
                reason = "not on the channel's Twilio API host"
            elif left < 1:
                reason = "no time left to download it while Twilio waited"
            else:
                content, reason = _download(client, item.url, auth, limit, deadline)
                if content is not None:
                    extension = mimetypes.guess_extension(item.content_type) or ""
                    attachments.append(
                        InboundAttachment(f"media-{index + 1}{extension}", content, item.content_type)
                    )
            if reason:
                logger.warning("Twilio media %s on %s not stored: %s", item.url, channel.slug, reason)
                skipped.append({"url": item.url[:500], "content_type": item.content_type, "reason": reason})
    return attachments, skipped


def _download(
    client: httpx.Client, url: str, auth: tuple[str, str] | None, limit: int, deadline: float
) -> tuple[bytes | None, str]:
    timeout = min(deadline - time.monotonic(), TIMEOUT_SECONDS)
    try:
        with client.stream("GET", url, auth=auth, timeout=timeout) as response:
            if response.status_code != 200:
                return None, f"Twilio answered {response.status_code}"
            declared = response.headers.get("content-length", "")
            if re.fullmatch(r"[0-9]{1,18}", declared) and int(declared) > limit:
                return None, f"larger than {limit} bytes ({declared})"
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > limit:
                    return None, f"larger than {limit} bytes"
                if time.monotonic() > deadline:
                    return None, "no time left to download it while Twilio waited"
                chunks.append(chunk)
            return b"".join(chunks), ""
    except httpx.HTTPError as error:
        return None, f"download failed: {type(error).__name__}"


def twilio_receive(*, channel: Channel, params: Mapping[str, str]) -> Received:
    """Store one incoming message (once per MessageSid) and apply its opt-out or opt-in keyword."""
    incoming = parse_message(channel, params)
    stored = Message.objects.filter(channel=channel, external_id=incoming.sid).first()
    if stored is not None:
        # Twilio delivered it again: no second download, no second keyword.
        return Received(message=stored, created=False)
    if not incoming.media and answer_taken(
        channel=channel,
        claim=IdentityClaim(Identity.Kind.PHONE, incoming.phone),
        text=incoming.body,
        external_id=incoming.sid,
    ):
        # A survey's score texted back: recorded as the answer, not as a message of a new conversation.
        return Received(message=None, created=True)
    attachments, skipped = fetch_media(channel, incoming.media)
    metadata: dict[str, Any] = {"twilio": dict(incoming.metadata)}
    text = incoming.body
    if skipped:
        metadata["twilio"]["skipped_media"] = skipped
        if not text.strip() and not attachments:
            # Keep the message (its media may be fetched by hand from the URLs kept in metadata).
            text = f"({len(skipped)} media file{'s' if len(skipped) > 1 else ''} could not be stored)"
    action, keyword = keyword_action(incoming.body, incoming.opt_out_type)
    if action:
        metadata["twilio"][action] = keyword
        # Channel-neutral: nothing automatic may answer a STOP or START.
        metadata["auto_submitted"] = True
    with transaction.atomic():
        # The message and its keyword together: a STOP is never stored without its opt-out.
        result = _store(channel, incoming, text, metadata, attachments)
        if result.created and action:
            opt_out_set(
                channel=channel,
                phone=incoming.phone,
                action=action,
                keyword=keyword,
                message_id=result.message.pk,
            )
    return Received(message=result.message, created=result.created)


def _store(
    channel: Channel,
    incoming: IncomingText,
    text: str,
    metadata: dict[str, Any],
    attachments: list[InboundAttachment],
) -> ReceiveResult:
    return receive_message(
        Inbound(
            channel=channel,
            claims=[IdentityClaim(Identity.Kind.PHONE, incoming.phone)],
            text=text,
            external_id=incoming.sid,
            name=incoming.name,
            metadata=metadata,
            attachments=attachments,
        )
    )


# Twilio's MessageStatus values and what they mean for a stored reply; None: nothing to record yet.
STATUSES: dict[str, str | None] = {
    "accepted": None,
    "scheduled": None,
    "queued": None,
    "sending": None,
    "sent": Message.Delivery.SENT,
    "delivered": Message.Delivery.DELIVERED,
    "read": Message.Delivery.DELIVERED,
    "undelivered": Message.Delivery.FAILED,
    "failed": Message.Delivery.FAILED,
    "canceled": Message.Delivery.FAILED,
    "partially_delivered": None,
    "receiving": None,
    "received": None,
}

# The delivery errors agents meet most, in words (all codes: Twilio's error dictionary).
ERROR_TEXTS = {
    "21610": "the recipient has opted out (texted STOP) of messages from this number",
    "21211": "the number is not a valid phone number",
    "21614": "the number cannot receive SMS (a landline?)",
    "30003": "the phone is unreachable (switched off or out of coverage)",
    "30004": "the message was blocked by the recipient or their carrier",
    "30005": "the number is unknown or no longer in service",
    "30006": "the number is a landline or its carrier cannot receive SMS",
    "30007": "the carrier filtered the message as spam",
    "30008": "the carrier reported an unknown error",
    "63016": "WhatsApp allows free-form replies only within 24 hours of the customer's last message",
}


def error_text(code: str, detail: str = "") -> str:
    """A Twilio error code in words, for the agent."""
    words = ERROR_TEXTS.get(code) or detail or "see the error dictionary in Twilio's docs"
    return f"Twilio error {code}: {words}"


def twilio_status_apply(*, channel: Channel, params: Mapping[str, str]) -> Message | None:
    """Apply a reply's StatusCallback. Returns the message, or None when nothing was recorded."""
    sid = _one(params, "MessageSid") or _one(params, "SmsSid")
    status = (_one(params, "MessageStatus") or _one(params, "SmsStatus")).lower()
    if not _SID_RE.match(sid):
        raise InvalidInput("the status callback has no valid MessageSid")
    if status not in STATUSES:
        raise InvalidInput(f"unknown MessageStatus {status[:40]!r}")
    delivery = STATUSES[status]
    if delivery is None:
        return None
    error = ""
    if delivery == Message.Delivery.FAILED:
        code, detail = _one(params, "ErrorCode")[:10], _one(params, "ErrorMessage")[:300]
        error = error_text(code, detail) if code else f"Twilio reported the message {status}"
    message = message_mark_delivery(channel=channel, external_id=sid, status=delivery, error=error)
    if message is None:
        logger.info("Twilio status %s for unknown message %s on %s", status, sid, channel.slug)
    return message
