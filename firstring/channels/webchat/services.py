"""Messages from chat visitors, through the one receive service; the visitor's read receipts."""

from __future__ import annotations

import re
from typing import Any

from firstring.channels.models import Channel
from firstring.channels.webchat.identity import Visitor
from firstring.channels.webchat.transport import external_id_for
from firstring.conversations.models import Message
from firstring.conversations.services import (
    Inbound,
    InboundAttachment,
    ReceiveResult,
    message_mark_delivery,
    receive_message,
)
from firstring.customers.identities import IdentityClaim, InvalidIdentity, normalize_email
from firstring.customers.models import Identity
from firstring.lib.errors import InvalidInput, TooLarge

MAX_MESSAGE_CHARS = 5000
MAX_NAME_CHARS = 100
# The widget names each message it sends; a resend after a reconnect carries the same id.
_CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def _check_text(text: object) -> str:
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("the message is empty")
    if len(text) > MAX_MESSAGE_CHARS:
        raise TooLarge(f"the message is longer than {MAX_MESSAGE_CHARS} characters")
    return text.strip()


def _check_client_id(client_id: object) -> str:
    if not isinstance(client_id, str) or not _CLIENT_ID_RE.match(client_id):
        raise InvalidInput("each message needs an id of 8 to 64 letters, digits, - or _")
    return client_id


def _check_name(name: object) -> str:
    if name is None:
        return ""
    if not isinstance(name, str) or len(name) > MAX_NAME_CHARS:
        raise InvalidInput(f"a name is text of at most {MAX_NAME_CHARS} characters")
    return name.strip()


def _prechat(channel: Channel, name: str, email: str) -> dict[str, Any]:
    """Check the pre-chat answers against the channel's form; they are shown, never used to link."""
    form = channel.config.get("prechat") or {}
    if not isinstance(form, dict):
        form = {}
    if form.get("name") == "required" and not name:
        raise InvalidInput("please tell us your name")
    if form.get("email") == "required" and not email:
        raise InvalidInput("please tell us your e-mail address")
    answers: dict[str, Any] = {}
    if email:
        try:
            answers["email"] = normalize_email(email)
        except InvalidIdentity as error:
            raise InvalidInput(str(error)) from None
        answers["email_verified"] = False
    return answers


def chat_message_receive(
    *, visitor: Visitor, client_id: object, text: object, name: object = None, email: object = None
) -> ReceiveResult:
    """Store a visitor's message. Sent again with the same client id, it is stored once.

    `name` and `email` are the pre-chat form's answers: the name names a new customer, the address is
    kept on the message as an unverified answer and never links the visitor to the customer who has it.
    """
    client_id = _check_client_id(client_id)
    text = _check_text(text)
    name = _check_name(name)
    if email is not None and not isinstance(email, str):
        raise InvalidInput("an e-mail address is text")
    metadata: dict[str, Any] = {"visitor": visitor.visitor_id, "verified": visitor.verified}
    prechat = _prechat(visitor.channel, name, (email or "").strip())
    if prechat:
        metadata["prechat"] = prechat
    return receive_message(
        Inbound(
            channel=visitor.channel,
            claims=[visitor.claim],
            text=text,
            external_id=f"{visitor.visitor_id}:{client_id}",
            name=name,
            metadata=metadata,
        )
    )


def chat_file_receive(
    *,
    visitor: Visitor,
    client_id: object,
    filename: str,
    content: bytes,
    content_type: str,
    text: object = "",
) -> ReceiveResult:
    """Store a file a visitor sent (with an optional caption) as their message, stored once per client id.

    Sizes are checked by the receive service (FIRSTRING_MAX_ATTACHMENT_BYTES) before anything is stored.
    """
    client_id = _check_client_id(client_id)
    if not isinstance(text, str) or len(text) > MAX_MESSAGE_CHARS:
        raise InvalidInput(f"a caption is text of at most {MAX_MESSAGE_CHARS} characters")
    if not content:
        raise InvalidInput("the file is empty")
    return receive_message(
        Inbound(
            channel=visitor.channel,
            claims=[visitor.claim],
            text=text.strip(),
            external_id=f"{visitor.visitor_id}:{client_id}",
            metadata={"visitor": visitor.visitor_id, "verified": visitor.verified},
            attachments=[
                InboundAttachment(
                    filename=filename[:255] or "file", content=content, content_type=content_type[:127]
                )
            ],
        )
    )


def offline_channel(channel: Channel) -> Channel | None:
    """The e-mail channel that takes messages left while nobody is at work, when one is configured."""
    slug = channel.config.get("offline_channel")
    if not isinstance(slug, str) or not slug:
        return None
    return Channel.objects.filter(slug=slug, kind="email", enabled=True).first()


def chat_offline_receive(
    *, visitor: Visitor, client_id: object, email: object, text: object, name: object = None
) -> ReceiveResult:
    """A message left while no agent is available: a conversation with the address's owner, by e-mail.

    It is what an e-mail from that address would be: the reply goes to the address, so only whoever
    reads that mailbox gets it, and the widget never shows that customer's history.
    """
    target = offline_channel(visitor.channel)
    if target is None:
        raise InvalidInput("this chat takes no messages while nobody is available")
    client_id = _check_client_id(client_id)
    text = _check_text(text)
    name = _check_name(name)
    if not isinstance(email, str) or not email.strip():
        raise InvalidInput("please tell us your e-mail address")
    try:
        address = normalize_email(email)
    except InvalidIdentity as error:
        raise InvalidInput(str(error)) from None
    return receive_message(
        Inbound(
            channel=target,
            claims=[IdentityClaim(Identity.Kind.EMAIL, address)],
            text=text,
            external_id=f"chat-offline:{visitor.visitor_id}:{client_id}",
            subject=f"Message left in the web chat {visitor.channel.name}"[:255],
            name=name,
            metadata={"via": "chat", "chat_channel": visitor.channel.slug, "visitor": visitor.visitor_id},
        )
    )


def chat_mark_seen(*, channel: Channel, customer_id: int, up_to: int) -> int:
    """The widget showed the visitor everything up to `up_to`: replies sent until then are delivered."""
    ids = list(
        Message.objects.filter(
            conversation__channel=channel,
            conversation__customer_id=customer_id,
            direction=Message.Direction.OUTBOUND,
            delivery_status=Message.Delivery.SENT,
            pk__lte=up_to,
        ).values_list("pk", flat=True)[:200]
    )
    for message_id in ids:
        message_mark_delivery(
            channel=channel, external_id=external_id_for(message_id), status=Message.Delivery.DELIVERED
        )
    return len(ids)
