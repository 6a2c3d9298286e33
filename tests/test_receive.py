"""The one way in: customers found by identity, messages threaded, redeliveries stored once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from firstring.conversations.models import Conversation, ConversationEvent, Message
from firstring.conversations.services import InboundAttachment, conversation_set_status
from firstring.customers.models import Customer, Identity
from firstring.lib.errors import InvalidInput, TooLarge

pytestmark = pytest.mark.django_db


def test_unknown_sender_becomes_new_customer_and_conversation(receive):
    result = receive(email="Carla@Example.COM", text="Where is my parcel?", name="Carla")
    assert result.created
    assert result.customer.name == "Carla"
    identity = Identity.objects.get(customer=result.customer)
    assert (identity.kind, identity.value) == ("email", "carla@example.com")
    conversation = result.conversation
    assert conversation.status == Conversation.Status.OPEN
    assert conversation.message_count == 1
    assert conversation.last_message_excerpt == "Where is my parcel?"
    assert conversation.waiting_since == result.message.created_at
    assert conversation.events.filter(kind=ConversationEvent.Kind.CREATED).count() == 1


def test_known_identity_finds_its_customer_and_recent_open_conversation(receive):
    first = receive(email="carla@example.com", text="one")
    second = receive(email="CARLA@example.com", text="two")
    assert second.customer == first.customer
    assert second.conversation == first.conversation
    assert Customer.objects.count() == 1
    assert second.conversation.message_count == 2


def test_phone_numbers_are_stored_in_e164(receive):
    result = receive(phone="(202) 555-0143", text="call me")
    assert result.customer.identities.get().value == "+12025550143"
    again = receive(phone="+1 202 555 0143", text="again")
    assert again.customer == result.customer


def test_new_identities_join_the_customer_found_by_another(receive):
    first = receive(email="dan@example.com")
    second = receive(email="dan@example.com", phone="+442079460000")
    assert second.customer == first.customer
    assert set(first.customer.identities.values_list("kind", flat=True)) == {"email", "phone"}


def test_identities_of_two_customers_are_never_joined_silently(receive):
    a = receive(email="a@example.com")
    b = receive(phone="+442079460001")
    both = receive(email="a@example.com", phone="+442079460001")
    assert both.customer == a.customer
    assert Identity.objects.get(value="+442079460001").customer == b.customer


def test_same_thread_joins_its_conversation_and_another_thread_starts_one(receive):
    first = receive(email="e@example.com", thread="t-1")
    same = receive(email="e@example.com", thread="t-1")
    other = receive(email="e@example.com", thread="t-2")
    assert same.conversation == first.conversation
    assert other.conversation != first.conversation


def test_thread_reply_from_another_sender_stays_in_the_thread(receive):
    first = receive(email="f@example.com", thread="shared")
    colleague = receive(email="g@example.com", thread="shared", text="I have the same problem")
    assert colleague.conversation == first.conversation
    assert colleague.message.author_customer == colleague.customer != first.customer


def test_resolved_conversation_is_not_joined_without_a_thread(receive, agent):
    first = receive(email="h@example.com")
    conversation_set_status(conversation=first.conversation, status="resolved", actor=agent)
    later = receive(email="h@example.com")
    assert later.conversation != first.conversation


def test_reply_in_a_resolved_thread_reopens_it_and_records_why(receive, agent):
    first = receive(email="i@example.com", thread="x")
    conversation_set_status(conversation=first.conversation, status="resolved", actor=agent)
    later = receive(email="i@example.com", thread="x")
    conversation = Conversation.objects.get(pk=first.conversation.pk)
    assert later.conversation == conversation
    assert conversation.status == "open" and conversation.resolved_at is None
    event = conversation.events.filter(kind="status").last()
    assert event.data == {"from": "resolved", "to": "open", "reason": "customer replied"}


def test_old_conversations_are_not_joined(receive):
    long_ago = timezone.now() - timedelta(days=30)
    first = receive(email="j@example.com", received_at=long_ago)
    later = receive(email="j@example.com")
    assert later.conversation != first.conversation


def test_redelivery_is_stored_once(receive):
    first = receive(email="k@example.com", external_id="m-1", text="once")
    again = receive(email="k@example.com", external_id="m-1", text="once")
    assert not again.created
    assert again.message == first.message
    assert Message.objects.count() == 1
    assert Conversation.objects.get().message_count == 1


def test_same_external_id_on_another_channel_is_another_message(receive, email_channel):
    receive(email="l@example.com", external_id="m-1")
    other = receive(email="l@example.com", external_id="m-1", channel=email_channel)
    assert other.created
    assert Message.objects.count() == 2


def test_channel_team_becomes_the_conversation_team(receive, email_channel, support_team):
    result = receive(email="m@example.com", channel=email_channel)
    assert result.conversation.team == support_team


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>Hi",
        '<img src=x onerror="alert(1)">',
        '<a href="javascript:alert(1)">click</a>',
        "<svg><script>alert(1)</script></svg>",
    ],
)
def test_html_is_sanitised_when_stored(receive, payload):
    result = receive(email="n@example.com", text="", html=payload)
    stored = result.message.html
    assert "<script" not in stored and "onerror" not in stored and "javascript:" not in stored


def test_plain_text_is_escaped_into_html(receive):
    result = receive(email="o@example.com", text="<b>bold</b> & https://example.com/x")
    assert "&lt;b&gt;" in result.message.html
    assert 'href="https://example.com/x"' in result.message.html


def test_bad_input_stores_nothing(receive, settings):
    settings.FIRSTRING_MAX_ATTACHMENT_BYTES = 10
    with pytest.raises(InvalidInput):
        receive(email="p@example.com", text="   ")
    with pytest.raises(TooLarge):
        receive(email="p@example.com", attachments=[InboundAttachment("big.bin", b"x" * 11)])
    assert Customer.objects.count() == 0 and Message.objects.count() == 0


def test_attachments_are_stored_with_safe_names(receive, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    result = receive(
        email="q@example.com",
        attachments=[InboundAttachment("../../etc/passwd", b"root", "text/plain")],
    )
    attachment = result.message.attachments.get()
    assert attachment.filename == "passwd"
    assert attachment.size == 4
    assert attachment.file.read() == b"root"
    assert str(tmp_path) in attachment.file.path
