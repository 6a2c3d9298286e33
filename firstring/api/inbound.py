"""The generic API channel: push a message in from any system."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from firstring.api.auth import current_user
from firstring.api.schemas import CheckedIn, errors
from firstring.channels.models import Channel
from firstring.conversations.services import Inbound, receive_message
from firstring.customers.identities import IdentityClaim, normalize_claim
from firstring.customers.models import Identity
from firstring.lib.errors import Forbidden, InvalidInput

router = Router()


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


@router.post(
    "",
    response={200: InboundOut, 201: InboundOut, **errors(400, 403, 413)},
    summary="Receive a message from any system",
)
def inbound(request: HttpRequest, payload: InboundIn) -> tuple[int, InboundOut]:
    user = current_user(request)
    if not user.sees_everything:
        raise Forbidden("only managers and admins may push inbound messages")
    channel = Channel.objects.filter(slug=payload.channel, enabled=True).first()
    if channel is None:
        raise InvalidInput(f"no enabled channel with slug {payload.channel!r}")
    result = receive_message(
        Inbound(
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
    )
    out = InboundOut(
        customer_id=result.customer.pk,
        conversation_id=result.conversation.pk,
        message_id=result.message.pk,
        created=result.created,
    )
    return (201 if result.created else 200), out
