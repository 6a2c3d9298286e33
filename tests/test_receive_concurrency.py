"""Concurrent deliveries: one customer per identity, one message per external id, one new conversation."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection, connections

from firstring.channels.models import Channel
from firstring.conversations.models import Conversation, Message
from firstring.conversations.services import Inbound, receive_message
from firstring.customers.identities import IdentityClaim
from firstring.customers.models import Customer, Identity

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 6


def _race(work: Callable[[int], None]) -> list[BaseException]:
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait()
            work(i)
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def _inbound(i: int, **fields: object) -> Inbound:
    channel = Channel.objects.get(slug="api")
    return Inbound(
        channel=channel, claims=[IdentityClaim("email", "race@example.com")], text=f"msg {i}", **fields
    )


@pytest.fixture(autouse=True)
def _needs_real_concurrency(api_channel: Channel) -> None:
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"] in ("", ":memory:"):
        pytest.skip("in-memory SQLite has no concurrent connections")


def test_first_contact_from_one_sender_at_once_makes_one_customer_and_one_conversation():
    errors = _race(lambda i: receive_message(_inbound(i)))
    assert errors == []
    assert Customer.objects.count() == 1
    assert Identity.objects.count() == 1
    assert Conversation.objects.count() == 1
    assert Message.objects.count() == THREADS
    assert Conversation.objects.get().message_count == THREADS


def test_the_same_message_delivered_at_once_is_stored_once():
    results: list[int] = []
    errors = _race(lambda i: results.append(receive_message(_inbound(0, external_id="dup-1")).message.pk))
    assert errors == []
    assert Message.objects.count() == 1
    assert len(set(results)) == 1
    assert Conversation.objects.get().message_count == 1
