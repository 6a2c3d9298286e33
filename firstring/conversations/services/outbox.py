"""The one way out: replies are stored first, then delivered by a background task with retries."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks import task

from firstring.accounts.models import User
from firstring.channels.models import Channel
from firstring.channels.registry import DeliveryError, get_kind, reply_blocked
from firstring.conversations import hooks, live
from firstring.conversations.attachments import InboundAttachment, check_attachment_sizes, store_attachment
from firstring.conversations.models import Conversation, ConversationEvent, Message
from firstring.conversations.services.sla import conversation_sla_apply
from firstring.customers.models import Identity
from firstring.lib.errors import InvalidInput
from firstring.lib.sanitize import excerpt, sanitize_html, text_to_html

logger = logging.getLogger(__name__)

# How long one delivery attempt may hold its claim before the sweeper may try again.
CLAIM_SECONDS = 120


def reply_send(
    *,
    conversation: Conversation,
    author: User | None,
    text: str,
    html: str = "",
    channel: Channel | None = None,
    recipient: Identity | None = None,
    attachments: Sequence[InboundAttachment] = (),
    metadata: dict[str, Any] | None = None,
) -> Message:
    """Store an outbound reply as queued and hand it to the channel's sender after commit.

    `channel` and `recipient` choose another of the customer's channels; by default the reply goes
    back where the conversation came from. Without an author it is Firstring's own message (a survey):
    delivered the same way, but it answers nobody, so response times and the customer's wait stay as
    they were.
    """
    if not text.strip() and not attachments:
        raise InvalidInput("a reply cannot be empty")
    check_attachment_sizes(attachments)
    channel = channel or conversation.channel
    if recipient is None and channel.pk == conversation.channel_id:
        recipient = conversation.identity
    if recipient is not None and recipient.customer_id != conversation.customer_id:
        raise InvalidInput("the recipient is not one of this customer's identities")
    if not channel.enabled:
        raise InvalidInput(f"channel {channel.name} is disabled")
    blocked = reply_blocked(channel, recipient) if recipient is not None else ""
    if blocked:
        # The channel's own rule (an opted-out number …): refused now rather than failed later.
        raise InvalidInput(blocked)

    now = timezone.now()
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        message = Message.objects.create(
            conversation=conversation,
            channel=channel,
            direction=Message.Direction.OUTBOUND,
            author_user=author,
            recipient=recipient,
            text=text,
            html=sanitize_html(html) if html else text_to_html(text),
            metadata=metadata or {},
            delivery_status=Message.Delivery.QUEUED,
            next_attempt_at=now,
            created_at=now,
        )
        for attachment in attachments:
            store_attachment(message, attachment)
        fields = ["last_message_at", "last_message_excerpt", "message_count", "updated_at"]
        conversation.last_message_at = now
        conversation.last_message_excerpt = excerpt(text, 200)
        conversation.message_count += 1
        conversation.updated_at = now
        if author is not None:
            if conversation.first_response_at is None:
                conversation.first_response_at = now
                fields.append("first_response_at")
                first_id = conversation.pk
                transaction.on_commit(lambda: hooks.first_responded(conversation_id=first_id))
            conversation.waiting_since = None
            fields += ["waiting_since", *conversation_sla_apply(conversation)]
        conversation.save(update_fields=fields)
        message_id = message.pk
        transaction.on_commit(lambda: delivery_enqueue(message_id))
        live.publish_after_commit(conversation, kind="reply", message_id=message_id)
    return message


def _claim(message_id: int) -> bool:
    """Take the right to attempt this delivery; only one worker wins, even with several running."""
    now = timezone.now()
    return bool(
        Message.objects.filter(
            Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
            pk=message_id,
            delivery_status=Message.Delivery.QUEUED,
        ).update(next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS))
    )


# A reply waits for nobody: deliveries have a queue of their own ("outbox"), and where one worker
# serves every queue they go ahead of analysis (a burst of inbound messages queues one pipeline task
# per batch, which would otherwise run first).
DELIVERY_PRIORITY = 10


def delivery_enqueue(message_id: int) -> None:
    task = deliver_message
    if task.get_backend().supports_priority:
        task = task.using(priority=DELIVERY_PRIORITY)
    task.enqueue(message_id)


@task(queue_name="outbox")
def deliver_message(message_id: int) -> str:
    """Attempt one delivery. Transient failures are retried with exponential backoff by the sweeper."""
    if not _claim(message_id):
        return "skipped"
    message = Message.objects.select_related("channel", "recipient", "conversation").get(pk=message_id)
    kind = get_kind(message.channel.kind)
    attempts = message.delivery_attempts + 1
    try:
        if kind.sender is None:
            raise DeliveryError(f"no transport for {kind.label} is installed", permanent=True)
        result = kind.sender(channel=message.channel, message=message)
    except DeliveryError as error:
        _record_failure(message, attempts, str(error), permanent=error.permanent)
        return "failed"
    except Exception as error:
        # Anything unexpected in a transport counts as a transient failure, never as silence.
        logger.exception("sending message %s failed", message_id)
        _record_failure(message, attempts, f"{type(error).__name__}: {error}", permanent=False)
        return "failed"
    status = Message.Delivery.DELIVERED if result.delivered else Message.Delivery.SENT
    Message.objects.filter(pk=message_id).update(
        delivery_status=status,
        delivery_attempts=attempts,
        delivery_error="",
        next_attempt_at=None,
        sent_at=timezone.now(),
        external_id=result.external_id or message.external_id,
    )
    _publish(message)
    return status


def _record_failure(message: Message, attempts: int, error: str, *, permanent: bool) -> None:
    give_up = permanent or attempts >= settings.FIRSTRING_OUTBOX_MAX_ATTEMPTS
    with transaction.atomic():
        if give_up:
            Message.objects.filter(pk=message.pk).update(
                delivery_status=Message.Delivery.FAILED,
                delivery_attempts=attempts,
                delivery_error=error[:2000],
                next_attempt_at=None,
            )
            ConversationEvent.objects.create(
                conversation_id=message.conversation_id,
                kind=ConversationEvent.Kind.DELIVERY_FAILED,
                data={"message_id": message.pk, "error": error[:500], "attempts": attempts},
            )
        else:
            backoff = settings.FIRSTRING_OUTBOX_BACKOFF_SECONDS * 2 ** (attempts - 1)
            Message.objects.filter(pk=message.pk).update(
                delivery_attempts=attempts,
                delivery_error=error[:2000],
                next_attempt_at=timezone.now() + timedelta(seconds=backoff),
            )
    _publish(message)


def _publish(message: Message) -> None:
    live.publish_changes([live.Change.of(message.conversation, "delivery", message.pk)])


def outbox_sweep(*, limit: int = 500) -> int:
    """Queue deliveries that are due: retries after backoff and attempts whose worker died."""
    due = list(
        Message.objects.filter(delivery_status=Message.Delivery.QUEUED, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    for message_id in due:
        delivery_enqueue(message_id)
    return len(due)


def message_mark_delivery(
    *, channel: Channel, external_id: str, status: str, error: str = ""
) -> Message | None:
    """Apply a channel's delivery callback (sent → delivered, or failed) to the message it names."""
    if status not in (Message.Delivery.SENT, Message.Delivery.DELIVERED, Message.Delivery.FAILED):
        raise InvalidInput(f"unknown delivery status {status!r}")
    with transaction.atomic():
        message = (
            Message.objects.select_for_update()
            .select_related("conversation")
            .filter(channel=channel, external_id=external_id, direction=Message.Direction.OUTBOUND)
            .first()
        )
        if message is None:
            return None
        # Callbacks can arrive out of order: never move delivered back to sent.
        if message.delivery_status == Message.Delivery.DELIVERED and status == Message.Delivery.SENT:
            return message
        message.delivery_status = status
        message.delivery_error = error[:2000] if status == Message.Delivery.FAILED else ""
        message.save(update_fields=["delivery_status", "delivery_error"])
        if status == Message.Delivery.FAILED:
            ConversationEvent.objects.create(
                conversation_id=message.conversation_id,
                kind=ConversationEvent.Kind.DELIVERY_FAILED,
                data={"message_id": message.pk, "error": error[:500]},
            )
        transaction.on_commit(lambda: _publish(message))
    return message
