"""Replies by SMTP to a real local SMTP server: threading headers, parts, failures, bounces, no loops."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from firstring.channels.email.inbound import email_receive
from firstring.channels.models import Channel
from firstring.conversations.attachments import InboundAttachment
from firstring.conversations.models import ConversationEvent, Message
from firstring.conversations.services import ReceiveResult, reply_send
from firstring.lib.net import free_port
from tests.channels import email_corpus as corpus
from tests.channels.conftest import SmtpPeer


@pytest.fixture
def mailbox(email_channel: Channel, smtp_peer: SmtpPeer) -> Channel:
    email_channel.config = {
        "address": "support@firstring.example",
        "from_name": "Northwind Support",
        "smtp_host": smtp_peer.host,
        "smtp_port": smtp_peer.port,
        "smtp_security": "none",
    }
    email_channel.save()
    return email_channel


@pytest.fixture
def reply(
    agent: Any, run_tasks: Callable[[], int], django_capture_on_commit_callbacks: Any
) -> Callable[..., Message]:
    def _reply(received: ReceiveResult, text: str = "We have sent a new parcel.", **fields: Any) -> Message:
        with django_capture_on_commit_callbacks(execute=True):
            message = reply_send(conversation=received.conversation, author=agent, text=text, **fields)
        run_tasks()
        message.refresh_from_db()
        return message

    return _reply


def test_a_reply_is_threaded_under_the_customers_mail_with_token_parts_and_attachments(
    mailbox, smtp_peer, reply
):
    received = email_receive(
        channel=mailbox,
        raw=corpus.message(message_id="b@client", references="<a@client>", in_reply_to="a@client"),
    )
    sent = reply(
        received,
        text="We have sent a new parcel.\nTracking: 123",
        html="<p>We have sent a <b>new</b> parcel.</p><script>x()</script>",
        attachments=[InboundAttachment("label.pdf", b"%PDF label", "application/pdf")],
    )
    assert sent.delivery_status == "sent", sent.delivery_error
    [mail] = smtp_peer.received
    assert smtp_peer.envelopes == [("support@firstring.example", ["carla@example.com"])]
    assert mail["From"] == "Northwind Support <support@firstring.example>"
    assert mail["To"] == "carla@example.com"
    conversation_id = received.conversation.pk
    assert mail["Subject"] == f"Re: My order [#{conversation_id}]"
    assert mail["In-Reply-To"] == "<b@client>"
    assert mail["References"] == "<a@client> <b@client>"
    assert sent.external_id == mail["Message-ID"].strip("<>")
    assert sent.external_id.endswith("@firstring.example")
    text_part, html_part = mail.get_body(("plain",)), mail.get_body(("html",))
    assert (
        text_part is not None
        and text_part.get_content().replace("\r\n", "\n").strip()
        == "We have sent a new parcel.\nTracking: 123"
    )
    assert html_part is not None and "<b>new</b>" in html_part.get_content()
    assert "<script" not in html_part.get_content()
    [attachment] = list(mail.iter_attachments())
    assert (attachment.get_filename(), attachment.get_content()) == ("label.pdf", b"%PDF label")


def test_the_customers_answer_to_our_reply_joins_the_conversation(mailbox, smtp_peer, reply):
    received = email_receive(channel=mailbox, raw=corpus.message(message_id="first@client"))
    sent = reply(received)
    [mail] = smtp_peer.received
    # The customer's client answers our reply: In-Reply-To our Message-ID, References the chain.
    answer = email_receive(
        channel=mailbox,
        raw=corpus.message(
            message_id="third@client",
            in_reply_to=sent.external_id,
            references=f"{mail['References']} {mail['Message-ID']}",
            subject=mail["Subject"].replace("Re: ", "Re: Re: "),
        ),
    )
    assert answer.created and answer.conversation.pk == received.conversation.pk
    # Our next reply has one "Re:" and one token, however many the customer's client added.
    reply(answer)
    assert smtp_peer.received[1]["Subject"] == f"Re: My order [#{received.conversation.pk}]"
    assert smtp_peer.received[1]["In-Reply-To"] == "<third@client>"


def test_a_refused_recipient_fails_at_once_and_is_shown(mailbox, smtp_peer, reply):
    smtp_peer.refuse["carla@example.com"] = "550 5.1.1 No such user here"
    sent = reply(email_receive(channel=mailbox, raw=corpus.message()))
    assert sent.delivery_status == "failed"
    assert "550" in sent.delivery_error and "No such user" in sent.delivery_error
    assert ConversationEvent.objects.filter(kind="delivery_failed").exists()


def test_a_temporary_refusal_is_retried(mailbox, smtp_peer, reply):
    smtp_peer.refuse["carla@example.com"] = "451 4.7.1 Greylisted, try again later"
    sent = reply(email_receive(channel=mailbox, raw=corpus.message()))
    assert sent.delivery_status == "queued" and sent.delivery_attempts == 1
    assert "451" in sent.delivery_error and sent.next_attempt_at is not None


def test_an_unreachable_server_leaves_the_reply_queued_for_a_retry(mailbox, reply):
    mailbox.config["smtp_port"] = free_port()  # nothing listens there
    mailbox.save()
    sent = reply(email_receive(channel=mailbox, raw=corpus.message()))
    assert sent.delivery_status == "queued"
    assert "unreachable" in sent.delivery_error


def test_a_channel_without_a_sending_address_fails_with_the_reason(mailbox, reply):
    del mailbox.config["address"]
    mailbox.save()
    sent = reply(email_receive(channel=mailbox, raw=corpus.message()))
    assert sent.delivery_status == "failed"
    assert "no sending address" in sent.delivery_error


def test_a_bounce_of_our_reply_marks_it_failed_and_joins_its_conversation(mailbox, smtp_peer, reply):
    received = email_receive(channel=mailbox, raw=corpus.message())
    sent = reply(received)
    assert sent.delivery_status == "sent"
    bounce = email_receive(channel=mailbox, raw=corpus.bounce(original_message_id=sent.external_id))
    assert bounce.conversation.pk == received.conversation.pk
    sent.refresh_from_db()
    assert sent.delivery_status == "failed"
    assert "User unknown" in sent.delivery_error


def test_a_bounce_is_never_answered(mailbox, smtp_peer, reply):
    # A bounce for a message we do not know starts a conversation with the mail system.
    bounce = email_receive(channel=mailbox, raw=corpus.bounce(original_message_id="unknown@elsewhere"))
    assert bounce.customer.identities.get().value == "mailer-daemon@mx.firstring.example"
    sent = reply(bounce, text="Thanks!")
    assert sent.delivery_status == "failed"
    assert "bounce" in sent.delivery_error
    assert smtp_peer.received == []
