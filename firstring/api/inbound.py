"""The generic API channel: push a message in from any system."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from firstring.api.auth import current_user
from firstring.api.schemas import BodyIn, CheckedIn, errors
from firstring.channels.models import Channel
from firstring.conversations.services import Inbound, ReceiveResult, receive_message, receive_messages
from firstring.customers.identities import IdentityClaim, normalize_claim
from firstring.customers.models import Identity
from firstring.lib.errors import Forbidden, InvalidInput

router = Router()

# Messages in one batch request: a few hundred keep one transaction short and the body under 2 MB.
MAX_BATCH = 500


class Sender(CheckedIn):
    email: str | None = Field(None, max_length=320)
    phone: str | None = Field(None, max_length=64)
    handle: str | None = Field(None, max_length=300)
    network: str | None = Field(
        None, max_length=32, description="The handle's network; defaults to the channel."
    )
    visitor: str | None = Field(None, max_length=200, description="A chat visitor or external system id.")
    name: str = Field("", max_length=200)


class InboundIn(CheckedIn):
    # Lenient about unknown fields: pushing systems often send more than we read.
    channel: str = Field("api", max_length=64, description="Slug of the channel the message arrived on.")
    external_id: str | None = Field(None, min_length=1, max_length=255)
    thread: str = Field("", max_length=255)
    sender: Sender = Field(..., alias="from")
    subject: str = Field("", max_length=255)
    text: str = Field("", max_length=200_000)
    html: str = Field("", max_length=400_000)
    language: str = Field("", max_length=16)
    metadata: dict[str, Any] = Field(default_factory=dict)


class InboundOut(Schema):
    customer_id: int
    conversation_id: int
    message_id: int
    created: bool


def claims_from(sender: Sender, default_network: str) -> list[IdentityClaim]:
    raw: list[IdentityClaim] = []
    if sender.email:
        raw.append(IdentityClaim(Identity.Kind.EMAIL, sender.email))
    if sender.phone:
        raw.append(IdentityClaim(Identity.Kind.PHONE, sender.phone))
    if sender.handle:
        raw.append(IdentityClaim(Identity.Kind.HANDLE, sender.handle, sender.network or default_network))
    if sender.visitor:
        raw.append(IdentityClaim(Identity.Kind.VISITOR, sender.visitor))
    if not raw:
        raise InvalidInput("`from` needs at least one of email, phone, handle or visitor")
    return [normalize_claim(claim) for claim in raw]


class InboundBatchIn(BodyIn):
    messages: list[InboundIn] = Field(..., min_length=1, max_length=MAX_BATCH)


class InboundBatchOut(Schema):
    results: list[InboundOut]


def inbound_from(payload: InboundIn, channels: dict[str, Channel | None]) -> Inbound:
    """What the payload says, as the receive service takes it; `channels` caches the lookups by slug."""
    if payload.channel not in channels:
        channels[payload.channel] = Channel.objects.filter(slug=payload.channel, enabled=True).first()
    channel = channels[payload.channel]
    if channel is None:
        raise InvalidInput(f"no enabled channel with slug {payload.channel!r}")
    return Inbound(
        channel=channel,
        claims=claims_from(payload.sender, channel.slug),
        text=payload.text,
        html=payload.html,
        external_id=payload.external_id,
        thread=payload.thread,
        subject=payload.subject,
        name=payload.sender.name,
        language=payload.language,
        metadata=payload.metadata,
    )


def _out(result: ReceiveResult) -> InboundOut:
    return InboundOut(
        customer_id=result.customer.pk,
        conversation_id=result.conversation.pk,
        message_id=result.message.pk,
        created=result.created,
    )


def _may_push(request: HttpRequest) -> None:
    if not current_user(request).sees_everything:
        raise Forbidden("only managers and admins may push inbound messages")


@router.post(
    "",
    response={200: InboundOut, 201: InboundOut, **errors(400, 403, 413)},
    summary="Receive a message from any system",
)
def inbound(request: HttpRequest, payload: InboundIn) -> tuple[int, InboundOut]:
    _may_push(request)
    result = receive_message(inbound_from(payload, {}))
    return (201 if result.created else 200), _out(result)


@router.post(
    "/batch",
    response={200: InboundBatchOut, **errors(400, 403, 413)},
    summary="Receive up to 500 messages at once, stored in one transaction",
    description="All or nothing: a message that cannot be stored fails the whole batch with 422, naming "
    "its position, and nothing is stored. Each result says whether its message was new (`created`).",
)
def inbound_batch(request: HttpRequest, payload: InboundBatchIn) -> InboundBatchOut:
    _may_push(request)
    channels: dict[str, Channel | None] = {}
    inbounds = []
    for position, message in enumerate(payload.messages):
        try:
            inbounds.append(inbound_from(message, channels))
        except InvalidInput as error:
            raise InvalidInput(f"message {position}: {error}") from None
    return InboundBatchOut(results=[_out(result) for result in receive_messages(inbounds)])
