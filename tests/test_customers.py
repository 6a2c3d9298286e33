"""Merging customers and splitting identities: history moves, nothing is lost."""

from __future__ import annotations

import pytest

from firstring.conversations.models import Conversation, ConversationEvent, Message
from firstring.conversations.services import customer_merge, identity_split
from firstring.customers.models import Customer
from firstring.lib.errors import InvalidInput

pytestmark = pytest.mark.django_db


def test_merge_moves_all_history_and_keeps_a_pointer(receive, agent, email_channel):
    a = receive(email="anna@example.com", name="Anna")
    b = receive(phone="+442079460002", channel=email_channel)
    b.customer.company = "Acme"
    b.customer.notes = "Prefers phone"
    b.customer.custom_attributes = {"plan": "gold", "seats": 3}
    b.customer.save()
    a.customer.custom_attributes = {"plan": "silver"}
    a.customer.save()

    survivor = customer_merge(source=b.customer, target=a.customer, actor=agent)

    assert survivor == a.customer
    assert set(survivor.identities.values_list("value", flat=True)) == {"anna@example.com", "+442079460002"}
    assert Conversation.objects.filter(customer=survivor).count() == 2
    assert Message.objects.filter(author_customer=survivor).count() == 2
    assert survivor.company == "Acme" and survivor.notes == "Prefers phone"
    assert survivor.custom_attributes == {"plan": "silver", "seats": 3}, "the target's values win"
    old = Customer.objects.get(pk=b.customer.pk)
    assert old.merged_into == survivor
    event = ConversationEvent.objects.get(kind="merged", conversation=b.conversation)
    assert event.actor == agent and event.data["into_customer"] == survivor.pk

    # A message from the merged customer's phone now lands with the survivor.
    later = receive(phone="+442079460002", text="me again")
    assert later.customer == survivor


def test_merging_into_a_merged_customer_follows_the_pointer(receive, agent):
    a = receive(email="p1@example.com")
    b = receive(email="p2@example.com")
    c = receive(email="p3@example.com")
    customer_merge(source=b.customer, target=a.customer, actor=agent)
    survivor = customer_merge(source=c.customer, target=b.customer, actor=agent)
    assert survivor == a.customer
    with pytest.raises(InvalidInput):
        customer_merge(source=b.customer, target=a.customer, actor=agent)


def test_split_moves_an_identity_and_its_conversations_to_a_new_customer(receive, agent, email_channel):
    a = receive(email="q1@example.com", text="mine")
    wrong = receive(phone="+442079460003", text="not Anna's", channel=email_channel)
    merged = customer_merge(source=wrong.customer, target=a.customer, actor=agent)
    phone = merged.identities.get(kind="phone")

    new = identity_split(identity=phone, actor=agent, name="Somebody else")

    assert new.name == "Somebody else"
    assert list(new.identities.values_list("value", flat=True)) == ["+442079460003"]
    moved = Conversation.objects.get(pk=wrong.conversation.pk)
    assert moved.customer == new
    assert moved.messages.get().author_customer == new
    assert Conversation.objects.get(pk=a.conversation.pk).customer == merged
    assert ConversationEvent.objects.filter(kind="split", conversation=moved).exists()


def test_the_only_identity_cannot_be_split_off(receive, agent):
    a = receive(email="only@example.com")
    with pytest.raises(InvalidInput):
        identity_split(identity=a.customer.identities.get(), actor=agent)
