"""The one way in: every channel hands inbound messages to receive_message."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, OperationalError, transaction
from django.db.models import Q
from django.utils import timezone

from firstring.channels.models import Channel
from firstring.conversations import live, pipeline
from firstring.conversations.attachments import InboundAttachment, check_attachment_sizes, store_attachments
from firstring.conversations.models import Conversation, ConversationEvent, Message
from firstring.conversations.services.sla import SLA_FIELDS, conversation_sla_apply
from firstring.customers.identities import IdentityClaim
from firstring.customers.models import Customer
from firstring.customers.services import FoundCustomer, Sender, customers_find_or_create
from firstring.lib.bulk import update_rows
from firstring.lib.errors import DomainError, InvalidInput, TooLarge
from firstring.lib.sanitize import excerpt, html_to_text, sanitize_html, text_to_html
from firstring.sla.services import SlaBook

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
    """Store one inbound message: find the customer, thread it, save it, then queue what follows.

    Idempotent on (channel, external_id): a redelivery returns the stored message with created=False.
    Validation happens before any write, so a bad message stores nothing.
    """
    return receive_messages([inbound])[0]


def receive_messages(inbounds: Sequence[Inbound]) -> list[ReceiveResult]:
    """Store a batch of inbound messages in one transaction, in order, as receive_message would one by one.

    Channels that get messages in batches (a mailbox, a firehose, an import) save a commit and most
    round trips per message. Every message is validated first: one bad message raises InvalidInput or
    TooLarge naming its position, and nothing of the batch is stored.
    """
    for position, inbound in enumerate(inbounds):
        try:
            _validate(inbound)
        except DomainError as error:
            if len(inbounds) > 1:
                error.args = (f"message {position}: {error}",)
            raise
    results: dict[int, ReceiveResult] = {}
    for attempt in range(_ATTEMPTS):
        results.update(_redeliveries(inbounds, skip=results))
        todo = [position for position in range(len(inbounds)) if position not in results]
        if not todo:
            break
        try:
            with transaction.atomic():
                stored = _store([(position, inbounds[position]) for position in todo])
        except (IntegrityError, OperationalError) as error:
            # A concurrent delivery stored one of these messages or a new sender's identity first, or
            # two batches locked each other out; ours rolled back whole. Look again: the redelivery
            # check and the identity lookup now see what the other committed.
            if attempt == _ATTEMPTS - 1 or not _retryable(error):
                raise
            continue
        results.update(stored)
        break
    return [results[position] for position in range(len(inbounds))]


_ATTEMPTS = 3


def _retryable(error: DatabaseError) -> bool:
    if isinstance(error, IntegrityError):
        return True
    # PostgreSQL's deadlock_detected; SQLite serialises writers and never deadlocks.
    return getattr(error.__cause__, "sqlstate", None) == "40P01"


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


def _redeliveries(inbounds: Sequence[Inbound], *, skip: dict[int, ReceiveResult]) -> dict[int, ReceiveResult]:
    """The messages of the batch that are already stored, by position."""
    keyed = {
        position: (inbound.channel.pk, inbound.external_id)
        for position, inbound in enumerate(inbounds)
        if inbound.external_id and position not in skip
    }
    if not keyed:
        return {}
    # Most messages are new: ask the unique index first, and load stored messages only when there are.
    found = {
        (channel_id, external_id): pk
        for channel_id, external_id, pk in Message.objects.filter(
            channel_id__in={key[0] for key in keyed.values()},
            external_id__in={key[1] for key in keyed.values()},
        )
        .order_by()
        .values_list("channel_id", "external_id", "pk")
    }
    hits = {position: found[key] for position, key in keyed.items() if key in found}
    if not hits:
        return {}
    messages = Message.objects.select_related("conversation__customer").in_bulk(set(hits.values()))
    return {position: _redelivered(messages[pk]) for position, pk in hits.items()}


def _redelivered(message: Message) -> ReceiveResult:
    conversation = message.conversation
    return ReceiveResult(
        customer=conversation.customer, conversation=conversation, message=message, created=False
    )


def _store(batch: Sequence[tuple[int, Inbound]]) -> dict[int, ReceiveResult]:
    # Two messages from one customer at once must not both open a new conversation: threading
    # decisions for a customer are taken one at a time, under the lock on the customer's row.
    found = customers_find_or_create(
        senders=[Sender(claims=i.claims, name=i.name, language=i.language) for _, i in batch], lock=True
    )
    threading = _Threading.load(batch, found)
    results: dict[int, ReceiveResult] = {}
    stored: dict[tuple[int, str], Message] = {}  # a message sent twice within the batch is stored once
    messages: list[tuple[Message, Inbound]] = []
    for (position, inbound), sender in zip(batch, found, strict=True):
        key = (inbound.channel.pk, inbound.external_id) if inbound.external_id else None
        if key is not None and key in stored:
            results[position] = _redelivered(stored[key])
            continue
        now = inbound.received_at or timezone.now()
        conversation = threading.conversation_for(inbound, sender, now)
        html = sanitize_html(inbound.html) if inbound.html else text_to_html(inbound.text)
        message = Message(
            conversation=conversation,
            channel=inbound.channel,
            direction=Message.Direction.INBOUND,
            author_customer=sender.customer,
            text=inbound.text or html_to_text(html),
            html=html,
            external_id=inbound.external_id or None,
            metadata=inbound.metadata,
            created_at=now,
        )
        threading.touch(conversation, message, now)
        messages.append((message, inbound))
        if key is not None:
            stored[key] = message
        results[position] = ReceiveResult(
            customer=sender.customer, conversation=conversation, message=message, created=True
        )
    threading.measure_service_levels(
        channel_kinds={inbound.channel.pk: inbound.channel.kind for _, inbound in batch},
        tiers={sender.customer.pk: sender.customer.tier for sender in found},
    )
    threading.save()
    Message.objects.bulk_create([message for message, _ in messages])
    store_attachments(
        [(message, attachment) for message, inbound in messages for attachment in inbound.attachments]
    )
    _after_commit([message for message, _ in messages])
    return results


class _Threading:
    """Threading decisions for one batch, taken in order against the conversations locked for it.

    Holds the candidate conversations in memory, so a message can continue a conversation that an
    earlier message of the same batch started or reopened; save() writes them all at the end.
    """

    def __init__(self, candidates: list[Conversation]) -> None:
        self.conversations = candidates
        self.new: list[Conversation] = []
        self.touched: dict[int, Conversation] = {}
        self.events: list[ConversationEvent] = []

    @classmethod
    def load(cls, batch: Sequence[tuple[int, Inbound]], found: Sequence[FoundCustomer]) -> _Threading:
        channels = {inbound.channel.pk for _, inbound in batch}
        threads = {inbound.thread for _, inbound in batch if inbound.thread}
        known_customers = {sender.customer.pk for sender in found if not sender.created}
        query = Q()
        if threads:
            query |= Q(channel_id__in=channels, external_thread__in=threads)
        if known_customers:
            oldest = min(inbound.received_at or timezone.now() for _, inbound in batch)
            query |= Q(
                channel_id__in=channels,
                customer_id__in=known_customers,
                last_message_at__gte=oldest - _reopen_window(),
            ) & ~Q(status=Conversation.Status.RESOLVED)
        if not query:
            return cls([])
        # Locked in id order, so that concurrent batches take the same conversations in the same order.
        return cls(list(Conversation.objects.select_for_update().filter(query).order_by("pk")))

    def conversation_for(self, inbound: Inbound, sender: FoundCustomer, now: datetime) -> Conversation:
        """Same channel thread, else the customer's recent open one on that channel, else a new one."""
        channel_id = inbound.channel.pk
        if inbound.thread:
            in_thread = [
                c
                for c in self.conversations
                if c.channel_id == channel_id and c.external_thread == inbound.thread
            ]
            if in_thread:
                return self._reopen(_latest(in_thread), now)
        since = now - _reopen_window()
        recent = [
            c
            for c in self.conversations
            if c.channel_id == channel_id
            and c.customer_id == sender.customer.pk
            and c.last_message_at >= since
            and c.status != Conversation.Status.RESOLVED
            # A message that names its own thread only joins threadless conversations, never another.
            and not (inbound.thread and c.external_thread)
        ]
        if recent:
            return self._reopen(_latest(recent), now)
        conversation = Conversation(
            channel=inbound.channel,
            customer=sender.customer,
            identity=sender.identity,
            external_thread=inbound.thread,
            subject=(inbound.subject or "")[:255],
            team_id=inbound.channel.team_id,
            language=inbound.language or sender.customer.language,
            created_at=now,
            updated_at=now,
            last_message_at=now,
        )
        self.conversations.append(conversation)
        self.new.append(conversation)
        self.events.append(
            ConversationEvent(
                conversation=conversation,
                kind=ConversationEvent.Kind.CREATED,
                data={"channel": inbound.channel.slug},
                created_at=now,
            )
        )
        return conversation

    def _reopen(self, conversation: Conversation, now: datetime) -> Conversation:
        if conversation.status != Conversation.Status.OPEN:
            self.events.append(
                ConversationEvent(
                    conversation=conversation,
                    kind=ConversationEvent.Kind.STATUS,
                    data={
                        "from": conversation.status,
                        "to": Conversation.Status.OPEN,
                        "reason": "customer replied",
                    },
                    created_at=now,
                )
            )
            conversation.status = Conversation.Status.OPEN
            conversation.resolved_at = None
            conversation.snoozed_until = None
        if conversation.pk is not None:
            self.touched[conversation.pk] = conversation
        return conversation

    def touch(self, conversation: Conversation, message: Message, now: datetime) -> None:
        conversation.last_message_at = max(conversation.last_message_at, now)
        conversation.last_customer_message_at = now
        conversation.updated_at = timezone.now()
        if conversation.waiting_since is None:
            conversation.waiting_since = now
        conversation.last_message_excerpt = excerpt(message.text, 200)
        conversation.message_count += 1

    def measure_service_levels(self, *, channel_kinds: dict[int, str], tiers: dict[int, str]) -> None:
        """Due times for every conversation the batch started or continued, with one load of the policies."""
        book = SlaBook()
        for conversation in [*self.new, *self.touched.values()]:
            conversation_sla_apply(
                conversation,
                book=book,
                channel_kind=channel_kinds.get(conversation.channel_id),
                customer_tier=tiers.get(conversation.customer_id),
            )

    def save(self) -> None:
        if self.new:
            Conversation.objects.bulk_create(self.new)
        if self.touched:
            update_rows(list(self.touched.values()), _TOUCHED_FIELDS)
        if self.events:
            ConversationEvent.objects.bulk_create(self.events)


_TOUCHED_FIELDS = [
    "last_message_at",
    "last_customer_message_at",
    "updated_at",
    "waiting_since",
    "last_message_excerpt",
    "message_count",
    "status",
    "resolved_at",
    "snoozed_until",
    *SLA_FIELDS,
]


def _latest(conversations: list[Conversation]) -> Conversation:
    return max(conversations, key=lambda c: c.last_message_at)


def _reopen_window() -> timedelta:
    return timedelta(hours=settings.FIRSTRING_REOPEN_WINDOW_HOURS)


def _after_commit(messages: Sequence[Message]) -> None:
    changes = [live.Change.of(m.conversation, "message", m.pk) for m in messages]
    transaction.on_commit(lambda: live.publish_changes(changes))
    if pipeline.has_steps() and messages:
        message_ids = [m.pk for m in messages]
        transaction.on_commit(lambda: pipeline.messages_received.enqueue(message_ids))
