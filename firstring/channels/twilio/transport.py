"""Replies through Twilio's REST API (POST …/Messages.json) with the official client.

Twilio's 5xx, 429 and network errors are transient (the outbox retries them); its 4xx are permanent and
carry Twilio's error code. A number that opted out is refused before any call is made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from requests import RequestException
from twilio.base.exceptions import TwilioException

from firstring.channels.registry import DeliveryError, SendResult
from firstring.channels.twilio.client import (
    MissingCredentials,
    address,
    is_whatsapp,
    rest_client,
    webhook_url,
)
from firstring.channels.twilio.inbound import error_text
from firstring.channels.twilio.optout import reply_block
from firstring.customers.models import Identity

if TYPE_CHECKING:
    from firstring.channels.models import Channel
    from firstring.conversations.models import Message

# Twilio's limit for one message body (longer SMS are split into segments up to this).
MAX_BODY_CHARS = 1600


def _sender_fields(channel: Channel) -> dict[str, str]:
    service = str(channel.config.get("messaging_service_sid") or "")
    if service:
        return {"messaging_service_sid": service}
    number = str(channel.config.get("number") or "")
    if not number.startswith("+"):
        raise DeliveryError(
            f"channel {channel.slug} has no number to send from (config 'number' in E.164, "
            "or 'messaging_service_sid')",
            permanent=True,
        )
    return {"from_": address(channel, number)}


def send(*, channel: Channel, message: Message) -> SendResult:
    recipient = message.recipient
    if recipient is None or recipient.kind != Identity.Kind.PHONE:
        raise DeliveryError("the reply has no phone number to go to", permanent=True)
    blocked = reply_block(channel, recipient)
    if blocked:
        raise DeliveryError(blocked, permanent=True)
    if message.attachments.exists():
        # Twilio fetches media from a public URL, and attachments are private to the agents.
        raise DeliveryError(
            f"{'WhatsApp' if is_whatsapp(channel) else 'SMS'} replies cannot carry attachments here; "
            "send the text alone",
            permanent=True,
        )
    body = message.text.strip()
    if not body:
        raise DeliveryError("the reply has no text", permanent=True)
    if len(body) > MAX_BODY_CHARS:
        raise DeliveryError(f"the reply is longer than {MAX_BODY_CHARS} characters", permanent=True)
    fields = _sender_fields(channel)
    if channel.config.get("status_callbacks", True) is not False:
        fields["status_callback"] = webhook_url(channel, "status")
    try:
        created = rest_client(channel).messages.create(
            to=address(channel, recipient.value), body=body, **fields
        )
    except MissingCredentials as error:
        raise DeliveryError(str(error), permanent=True) from None
    except TwilioException as error:
        raise _delivery_error(error) from None
    except RequestException as error:
        raise DeliveryError(f"Twilio unreachable: {type(error).__name__}") from None
    status = str(created.status or "")
    if status in ("failed", "undelivered", "canceled"):
        code = str(created.error_code or "")
        raise DeliveryError(error_text(code, str(created.error_message or status)), permanent=True)
    return SendResult(external_id=str(created.sid), delivered=status in ("delivered", "read"))


def _delivery_error(error: TwilioException) -> DeliveryError:
    status = int(getattr(error, "status", 0) or 0)
    code = str(getattr(error, "code", "") or "")
    detail = str(getattr(error, "msg", "") or getattr(error, "detail", "") or getattr(error, "title", ""))
    # The client's messages start with "Unable to create record: "; the rest is Twilio's own.
    detail = detail.removeprefix("Unable to create record: ")
    reason = f"Twilio answered {status}: " + (
        error_text(code, detail) if code and code != str(status) else detail
    )
    return DeliveryError(reason[:1000], permanent=400 <= status < 500 and status != 429)
