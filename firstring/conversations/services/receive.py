"""The one way in: every channel hands inbound messages to receive_message."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from firstring.channels.models import Channel
from firstring.conversations import live, pipeline
from firstring.conversations.attachments import InboundAttachment, check_attachment_sizes, store_attachment
from firstring.conversations.models import Conversation, ConversationEvent, Message
from firstring.customers.identities import IdentityClaim
from firstring.customers.models import Customer
from firstring.customers.services import customer_find_or_create
from firstring.lib.errors import InvalidInput, TooLarge
from firstring.lib.sanitize import excerpt, html_to_text, sanitize_html, text_to_html

MAX_TEXT_CHARS = 200_000


@dataclass(frozen=True)
class ReceiveResult:
    customer: Customer
    conversation: Conversation
    message: Message
    created: bool


@dataclass(frozen=True)
class Inbound:
    """What a channel knows about one inbound message, already normalised."""

    channel: Channel
    claims: Sequence[IdentityClaim]
    text: str = ""
    html: str = ""
    external_id: str | None = None
    thread: str = ""
    subject: str = ""
    name: str = ""
    language: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    attachments: Sequence[InboundAttachment] = ()
    received_at: datetime | None = None


def receive_message(inbound: Inbound) -> ReceiveResult:
    """Store an inbound message: find the customer, thread it, save it, then queue what follows.

    Idempotent on (channel, external_id): a redelivery returns the stored message with created=False.
    Validation happens before any write, so a bad message stores nothing.
    """
    _validate(inbound)
    if inbound.external_id:
        existing = _existing(inbound.channel, inbound.external_id)
        if existing is not None:
            return existing
    try:
        with transaction.atomic():
            result = _store(inbound)
    except IntegrityError:
        # A concurrent delivery of the same message won the race; ours rolled back whole.
        existing = _existing(inbound.channel, inbound.external_id) if inbound.external_id else None
        if existing is None:
            raise
        return existing
    return result


def _validate(inbound: Inbound) -> None:
    if not inbound.claims:
        raise InvalidInput("the sender needs at least one identity (email, phone, handle or visitor id)")
    if not inbound.text.strip() and not inbound.html.strip() and not inbound.attachments:
        raise InvalidInput("the message is empty")
    if len(inbound.text) > MAX_TEXT_CHARS or len(inbound.html) > MAX_TEXT_CHARS * 2:
        raise TooLarge(f"message text is longer than {MAX_TEXT_CHARS} characters")
    if inbound.external_id is not None and len(inbound.external_id) > 255:
        raise InvalidInput("external_id is longer than 255 characters")
    if len(inbound.thread) > 255:
        raise InvalidInput("thread is longer than 255 characters")
    check_attachment_sizes(inbound.attachments)


def _existing(channel: Channel, external_id: str) -> ReceiveResult | None:
    # Most messages are new: ask the unique index first, and load the stored message only when it is there.
    found = Message.objects.filter(channel=channel, external_id=external_id).values_list("pk", flat=True)
    if not found:
        return None
    message = Message.objects.select_related("conversation__customer").get(pk=found[0])
    conversation = message.conversation
    return ReceiveResult(
        customer=conversation.customer, conversation=conversation, message=message, created=False
    )


def _store(inbound: Inbound) -> ReceiveResult:
    now = inbound.received_at or timezone.now()
    # Two messages from one customer at once must not both open a new conversation: threading
    # decisions for a customer are taken one at a time, under the lock on the customer's row.
    customer, identity, _ = customer_find_or_create(
        claims=inbound.claims, name=inbound.name, language=inbound.language, lock=True
    )
    conversation = _thread(inbound, customer, now)
    new_conversation = conversation is None
    if conversation is None:
        conversation = Conversation.objects.create(
            channel=inbound.channel,
            customer=customer,
            identity=identity,
            external_thread=inbound.thread,
            subject=(inbound.subject or "")[:255],
            team_id=inbound.channel.team_id,
            language=inbound.language or customer.language,
            created_at=now,
            updated_at=now,
            last_message_at=now,
        )
        ConversationEvent.objects.create(
            conversation=conversation,
            kind=ConversationEvent.Kind.CREATED,
            data={"channel": inbound.channel.slug},
            created_at=now,
        )

    html = sanitize_html(inbound.html) if inbound.html else text_to_html(inbound.text)
    text = inbound.text or html_to_text(html)
    message = Message.objects.create(
        conversation=conversation,
        channel=inbound.channel,
        direction=Message.Direction.INBOUND,
        author_customer=customer,
        text=text,
        html=html,
        external_id=inbound.external_id or None,
        metadata=inbound.metadata,
        created_at=now,
    )
    for attachment in inbound.attachments:
        store_attachment(message, attachment)

    _touch_conversation(conversation, message, now, reopened=not new_conversation)
    conversation_id, team_id, message_id = conversation.pk, conversation.team_id, message.pk
    transaction.on_commit(
        lambda: live.publish_conversation_changed(
            conversation_id=conversation_id, team_id=team_id, kind="message", message_id=message_id
        )
    )
    if pipeline.has_steps():
        transaction.on_commit(lambda: pipeline.message_received.enqueue(message_id))
    return ReceiveResult(customer=customer, conversation=conversation, message=message, created=True)


def _thread(inbound: Inbound, customer: Customer, now: datetime) -> Conversation | None:
    """The conversation this message continues: same channel thread, else the customer's recent open one."""
    conversations = Conversation.objects.select_for_update()
    if inbound.thread:
        found = (
            conversations.filter(channel=inbound.channel, external_thread=inbound.thread)
            .order_by("-last_message_at")
            .first()
        )
        if found is not None:
            return found
    window = timedelta(hours=settings.FIRSTRING_REOPEN_WINDOW_HOURS)
    recent = conversations.filter(
        channel=inbound.channel,
        customer=customer,
        last_message_at__gte=now - window,
    ).exclude(status=Conversation.Status.RESOLVED)
    if inbound.thread:
        # A message that names its own thread only joins threadless conversations, never another thread.
        recent = recent.filter(external_thread="")
    return recent.order_by("-last_message_at").first()


def _touch_conversation(
    conversation: Conversation, message: Message, now: datetime, *, reopened: bool
) -> None:
    conversation.last_message_at = max(conversation.last_message_at, now)
    conversation.last_customer_message_at = now
    conversation.updated_at = timezone.now()
    if conversation.waiting_since is None:
        conversation.waiting_since = now
    conversation.last_message_excerpt = excerpt(message.text, 200)
    conversation.message_count += 1
    fields = [
        "last_message_at",
        "last_customer_message_at",
        "updated_at",
        "waiting_since",
        "last_message_excerpt",
        "message_count",
    ]
    if reopened and conversation.status != Conversation.Status.OPEN:
        ConversationEvent.objects.create(
            conversation=conversation,
            kind=ConversationEvent.Kind.STATUS,
            data={"from": conversation.status, "to": Conversation.Status.OPEN, "reason": "customer replied"},
            created_at=now,
        )
        conversation.status = Conversation.Status.OPEN
        conversation.resolved_at = None
        conversation.snoozed_until = None
        fields += ["status", "resolved_at", "snoozed_until"]
    conversation.save(update_fields=fields)
