"""receive_messages: a batch is stored exactly as the same messages received one by one would be."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from firstring.channels.models import Channel
from firstring.conversations.models import Conversation, ConversationEvent, Message
from firstring.conversations.services import (
    Inbound,
    InboundAttachment,
    conversation_set_status,
    receive_message,
    receive_messages,
)
from firstring.customers.identities import IdentityClaim
from firstring.customers.models import Customer, Identity
from firstring.lib.errors import InvalidInput, TooLarge


def _email(address: str, *, channel: Channel, text: str = "Hello", **fields: object) -> Inbound:
    return Inbound(channel=channel, claims=[IdentityClaim("email", address)], text=text, **fields)


def _stream(channel: Channel, social: Channel) -> list[Inbound]:
    """A stream with every case at once: new and known senders, threads, a sender sharing a new
    identity, in-stream redeliveries, a reply from a second sender in a thread, a stale conversation."""
    old = timezone.now() - timedelta(days=40)
    x = "x"
    return [
        _email("ann@example.com", channel=channel, external_id="e1", received_at=old),
        _email("ann@example.com", channel=channel, external_id="e2", text="Still waiting"),
        _email("ann@example.com", channel=channel, external_id="e2", text="Still waiting"),
        _email("bob@example.com", channel=channel, external_id="e3", name="Bob"),
        Inbound(
            channel=channel,
            claims=[IdentityClaim("email", "bob@example.com"), IdentityClaim("phone", "+442079460000")],
            text="Call me",
            external_id="e4",
        ),
        Inbound(channel=channel, claims=[IdentityClaim("phone", "+442079460000")], text="Me again"),
        Inbound(channel=social, claims=[IdentityClaim("handle", "cat", x)], text="@brand no", thread="t1"),
        Inbound(channel=social, claims=[IdentityClaim("handle", "dan", x)], text="me too", thread="t1"),
        Inbound(channel=social, claims=[IdentityClaim("handle", "cat", x)], text="other", thread="t2"),
        Inbound(channel=social, claims=[IdentityClaim("handle", "cat", x)], text="plain"),
        _email("ann@example.com", channel=social, external_id="e1", text="same id, other channel"),
    ]


def _shape() -> list[tuple[object, ...]]:
    """What was stored, in terms that do not depend on ids: who wrote what into which conversation."""
    conversations = {c.pk: n for n, c in enumerate(Conversation.objects.order_by("created_at", "pk"))}
    customers = {c.pk: n for n, c in enumerate(Customer.objects.order_by("created_at", "pk"))}
    messages = [
        (
            conversations[m.conversation_id],
            customers[m.author_customer_id],
            m.channel_id,
            m.text,
            m.external_id,
        )
        for m in Message.objects.order_by("pk")
    ]
    summaries = [
        (c.message_count, c.status, c.last_message_excerpt, c.external_thread, customers[c.customer_id])
        for c in Conversation.objects.order_by("created_at", "pk")
    ]
    identities = sorted((i.kind, i.value, customers[i.customer_id]) for i in Identity.objects.all())
    events = sorted((conversations[e.conversation_id], e.kind) for e in ConversationEvent.objects.all())
    return [*messages, *summaries, *identities, *events]


@pytest.mark.django_db
@pytest.mark.parametrize("size", [2, 3, 5, 100])
def test_batches_store_what_one_by_one_stores(api_channel, email_channel, size):
    stream = _stream(email_channel, api_channel)
    one_by_one = [receive_message(inbound) for inbound in stream]
    expected = _shape()
    assert [r.created for r in one_by_one].count(False) == 1

    Message.objects.all().delete()
    ConversationEvent.objects.all().delete()
    Conversation.objects.all().delete()
    Identity.objects.all().delete()
    Customer.objects.all().delete()

    batched = [
        r for start in range(0, len(stream), size) for r in receive_messages(stream[start : start + size])
    ]
    assert _shape() == expected
    assert [r.created for r in batched] == [r.created for r in one_by_one]
    # A redelivery within the batch answers with the message stored for its first delivery.
    assert batched[2].message.pk == batched[1].message.pk


@pytest.mark.django_db
def test_a_batch_continues_and_reopens_stored_conversations(api_channel, agent):
    first = receive_message(_email("eve@example.com", channel=api_channel, thread="th"))
    conversation_set_status(conversation=first.conversation, status="resolved", actor=agent)
    results = receive_messages(
        [
            _email("eve@example.com", channel=api_channel, thread="th", text="back"),
            _email("eve@example.com", channel=api_channel, text="no thread"),
            _email("fay@example.com", channel=api_channel, text="new"),
        ]
    )
    conversation = Conversation.objects.get(pk=first.conversation.pk)
    assert results[0].conversation == conversation
    assert conversation.status == "open" and conversation.resolved_at is None
    # Reopened by the first message of the batch, it is the customer's recent open conversation for the next.
    assert results[1].conversation == conversation
    assert conversation.message_count == 3 and conversation.last_message_excerpt == "no thread"
    assert conversation.waiting_since is not None
    assert results[2].customer != results[0].customer
    assert conversation.events.filter(kind="status", data__reason="customer replied").count() == 1


@pytest.mark.django_db
def test_one_bad_message_stores_nothing_of_its_batch(api_channel, settings):
    settings.FIRSTRING_MAX_ATTACHMENT_BYTES = 10
    good = _email("gil@example.com", channel=api_channel)
    with pytest.raises(InvalidInput, match="message 1: the message is empty"):
        receive_messages([good, _email("gil@example.com", channel=api_channel, text="  ")])
    big = _email("gil@example.com", channel=api_channel, attachments=[InboundAttachment("a.bin", b"x" * 11)])
    with pytest.raises(TooLarge, match="message 2"):
        receive_messages([good, good, big])
    assert Customer.objects.count() == 0 and Message.objects.count() == 0


@pytest.mark.django_db
def test_an_empty_batch_stores_nothing(api_channel):
    assert receive_messages([]) == []


@pytest.mark.django_db(transaction=True)
def test_overlapping_batches_at_once_store_each_customer_and_message_once(api_channel):
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"] in ("", ":memory:"):
        pytest.skip("in-memory SQLite has no concurrent connections")
    senders = [f"s{n}@example.com" for n in range(12)]
    # Every thread sends the same messages from the same new senders, in a different order.
    batches = [
        [_email(s, channel=api_channel, external_id=f"m-{s}", text=s) for s in senders[k:] + senders[:k]]
        for k in range(0, 12, 3)
    ]
    barrier = threading.Barrier(len(batches))
    errors: list[BaseException] = []
    results: list[list[int]] = []

    def run(batch: list[Inbound]) -> None:
        try:
            barrier.wait()
            results.append(sorted(r.message.pk for r in receive_messages(batch)))
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(batch,)) for batch in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert Customer.objects.count() == len(senders) == Identity.objects.count()
    assert Message.objects.count() == len(senders) == Conversation.objects.count()
    assert all(r == results[0] for r in results)
    assert all(c.message_count == 1 for c in Conversation.objects.all())
