"""The one way out: replies are stored first, delivered by the worker, retried, never dropped."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

import pytest
from django.utils import timezone

from firstring.channels.models import Channel
from firstring.conversations.models import Conversation, ConversationEvent, Message
from firstring.conversations.services import message_mark_delivery, outbox_sweep, reply_send
from firstring.lib.errors import InvalidInput
from tests.http_peer import http_peer

pytestmark = pytest.mark.django_db


def _due_now() -> None:
    """Let the backoff elapse, as time would."""
    Message.objects.filter(delivery_status="queued").update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


def test_reply_is_delivered_to_the_api_callback(
    receive, api_channel, agent, run_tasks, django_capture_on_commit_callbacks
):
    with http_peer() as peer:
        api_channel.config = {"callback_url": peer.url}
        api_channel.secrets = {"signing_secret": "s3cret"}
        api_channel.save()
        peer.response_json = {"id": "remote-42"}
        inbound = receive(email="r@example.com", thread="ext-7")
        with django_capture_on_commit_callbacks(execute=True):
            reply = reply_send(conversation=inbound.conversation, author=agent, text="We are on it.")
        assert Message.objects.get(pk=reply.pk).delivery_status == "queued"
        run_tasks()

    reply.refresh_from_db()
    assert reply.delivery_status == "delivered"
    assert reply.external_id == "remote-42"
    assert reply.sent_at is not None
    [request] = peer.requests
    body = request.json()
    assert body["text"] == "We are on it."
    assert body["thread"] == "ext-7"
    assert body["to"] == {"kind": "email", "network": "", "value": "r@example.com"}
    expected = "sha256=" + hmac.new(b"s3cret", request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Firstring-Signature"] == expected

    conversation = Conversation.objects.get(pk=inbound.conversation.pk)
    assert conversation.first_response_at == reply.created_at
    assert conversation.waiting_since is None


def test_transient_failures_are_retried_with_backoff_then_succeed(
    receive, api_channel, agent, run_tasks, django_capture_on_commit_callbacks, settings
):
    settings.FIRSTRING_OUTBOX_BACKOFF_SECONDS = 30
    with http_peer() as peer:
        peer.statuses = [503, 500, 200]
        api_channel.config = {"callback_url": peer.url}
        api_channel.save()
        inbound = receive(email="s@example.com")
        with django_capture_on_commit_callbacks(execute=True):
            reply = reply_send(conversation=inbound.conversation, author=agent, text="retry me")
        run_tasks()
        reply.refresh_from_db()
        assert (reply.delivery_status, reply.delivery_attempts) == ("queued", 1)
        assert "503" in reply.delivery_error
        wait = (reply.next_attempt_at - timezone.now()).total_seconds()
        assert 25 < wait <= 30
        assert outbox_sweep() == 0, "not due yet"

        _due_now()
        assert outbox_sweep() == 1
        run_tasks()
        reply.refresh_from_db()
        assert reply.delivery_attempts == 2
        wait = (reply.next_attempt_at - timezone.now()).total_seconds()
        assert 55 < wait <= 60, "backoff doubles"

        _due_now()
        outbox_sweep()
        run_tasks()
    reply.refresh_from_db()
    assert (reply.delivery_status, reply.delivery_attempts, reply.delivery_error) == ("delivered", 3, "")
    assert len(peer.requests) == 3


def test_a_send_that_keeps_failing_ends_failed_and_visible(
    receive, api_channel, agent, run_tasks, django_capture_on_commit_callbacks, settings
):
    settings.FIRSTRING_OUTBOX_MAX_ATTEMPTS = 2
    api_channel.config = {"callback_url": "http://127.0.0.1:9/unreachable"}
    api_channel.save()
    inbound = receive(email="t@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        reply = reply_send(conversation=inbound.conversation, author=agent, text="nobody listens")
    run_tasks()
    _due_now()
    outbox_sweep()
    run_tasks()
    reply.refresh_from_db()
    assert reply.delivery_status == "failed"
    assert "unreachable" in reply.delivery_error
    event = ConversationEvent.objects.get(kind="delivery_failed")
    assert event.data["message_id"] == reply.pk and event.data["attempts"] == 2


def test_a_channel_without_transport_fails_at_once_with_the_reason(
    receive, support_team, agent, run_tasks, django_capture_on_commit_callbacks
):
    # A kind no installed plug-in provides.
    fax = Channel.objects.create(kind="fax", slug="fax", name="Fax", team=support_team)
    inbound = receive(email="u@example.com", channel=fax)
    with django_capture_on_commit_callbacks(execute=True):
        reply = reply_send(conversation=inbound.conversation, author=agent, text="hello")
    run_tasks()
    reply.refresh_from_db()
    assert reply.delivery_status == "failed"
    assert reply.delivery_error == "no transport for Fax is installed"


def test_a_refused_message_is_not_retried(
    receive, api_channel, agent, run_tasks, django_capture_on_commit_callbacks
):
    with http_peer() as peer:
        peer.statuses = [400]
        api_channel.config = {"callback_url": peer.url}
        api_channel.save()
        inbound = receive(email="v@example.com")
        with django_capture_on_commit_callbacks(execute=True):
            reply = reply_send(conversation=inbound.conversation, author=agent, text="bad")
        run_tasks()
    reply.refresh_from_db()
    assert (reply.delivery_status, reply.delivery_attempts) == ("failed", 1)


def test_a_delivery_is_attempted_once_even_if_queued_twice(
    receive, api_channel, agent, run_tasks, django_capture_on_commit_callbacks
):
    from firstring.conversations.services import deliver_message

    with http_peer() as peer:
        api_channel.config = {"callback_url": peer.url}
        api_channel.save()
        inbound = receive(email="w@example.com")
        with django_capture_on_commit_callbacks(execute=True):
            reply = reply_send(conversation=inbound.conversation, author=agent, text="once")
        deliver_message.enqueue(reply.pk)
        run_tasks()
    assert len(peer.requests) == 1


def test_delivery_callbacks_update_status_but_never_go_backwards(receive, api_channel, agent):
    inbound = receive(email="x@example.com")
    reply = reply_send(conversation=inbound.conversation, author=agent, text="hi")
    Message.objects.filter(pk=reply.pk).update(delivery_status="sent", external_id="prov-1")
    message_mark_delivery(channel=api_channel, external_id="prov-1", status="delivered")
    message_mark_delivery(channel=api_channel, external_id="prov-1", status="sent")
    assert Message.objects.get(pk=reply.pk).delivery_status == "delivered"
    assert message_mark_delivery(channel=api_channel, external_id="unknown", status="sent") is None
    with pytest.raises(InvalidInput):
        message_mark_delivery(channel=api_channel, external_id="prov-1", status="bogus")


def test_empty_reply_and_foreign_recipient_are_refused(receive, agent):
    mine = receive(email="y@example.com")
    other = receive(email="z@example.com")
    with pytest.raises(InvalidInput):
        reply_send(conversation=mine.conversation, author=agent, text="  ")
    foreign = other.customer.identities.get()
    with pytest.raises(InvalidInput):
        reply_send(conversation=mine.conversation, author=agent, text="hi", recipient=foreign)
    assert not Message.objects.filter(direction="outbound").exists()


def test_a_delivery_goes_ahead_of_queued_analysis(receive, agent, django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    with django_capture_on_commit_callbacks(execute=True):
        inbound = receive(email="first@example.com")  # queues the pipeline's analysis
        reply_send(conversation=inbound.conversation, author=agent, text="Hello")
    queued = list(DBTaskResult.objects.ready().values_list("task_path", flat=True))
    assert queued[0].endswith("deliver_message") and queued[1].endswith("messages_received")
