"""Replies through the official twilio client to a local server that speaks Twilio's REST API, and the
StatusCallbacks that follow: delivered, failed with Twilio's error codes, outages retried by the outbox.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from firstring.channels.models import Channel
from firstring.conversations.attachments import InboundAttachment
from firstring.conversations.models import ConversationEvent, Message
from firstring.conversations.services import ReceiveResult, deliver_message, outbox_sweep, reply_send
from firstring.lib.net import free_port
from tests.channels.test_twilio import CUSTOMER, hook, incoming, post, stored
from tests.channels.twilio_peer import ACCOUNT_SID, AUTH_TOKEN, TwilioPeer, sign, signed_post


@pytest.fixture
def received(sms: Channel) -> Message:
    params = incoming("My parcel never came")
    assert post(params).status_code == 200
    return stored(params)


@pytest.fixture
def reply(
    agent: Any, run_tasks: Callable[[], int], django_capture_on_commit_callbacks: Any
) -> Callable[..., Message]:
    def _reply(message: Message | ReceiveResult, text: str = "A new parcel is on its way.") -> Message:
        with django_capture_on_commit_callbacks(execute=True):
            sent = reply_send(conversation=message.conversation, author=agent, text=text)
        run_tasks()
        sent.refresh_from_db()
        return sent

    return _reply


def _due_now() -> None:
    Message.objects.filter(delivery_status="queued").update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


def status(sms: Channel, peer: TwilioPeer, message: Message, value: str, error_code: str = "") -> Any:
    url, params = peer.status_callback(message.external_id or "", value, error_code)
    assert url == hook(sms, "status")
    return signed_post(Client(), url, params)


def test_a_reply_is_created_through_twilios_rest_api(sms, peer, received, reply):
    sent = reply(received, "A new parcel is on its way.\nTracking: 1Z999")
    assert sent.delivery_status == "sent", sent.delivery_error
    [request] = peer.requests
    assert request == {
        "To": CUSTOMER,
        "From": "+12025550101",
        "Body": "A new parcel is on its way.\nTracking: 1Z999",
        "StatusCallback": hook(sms, "status"),
    }
    assert sent.external_id in peer.messages
    assert peer.messages[sent.external_id]["status"] == "queued"


def test_whatsapp_replies_use_whatsapp_addresses(support_team, peer, reply):
    channel = Channel.objects.create(
        kind="whatsapp",
        slug="whatsapp",
        name="WhatsApp",
        team=support_team,
        config={"number": "+12025550102", "api_base_url": peer.url, "status_callbacks": False},
        secrets={"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN},
    )
    params = incoming("Hallo", From="whatsapp:+4915112345678", To="whatsapp:+12025550102")
    assert post(params, channel=channel).status_code == 200
    sent = reply(stored(params), "Hallo! Wie können wir helfen?")
    assert sent.delivery_status == "sent", sent.delivery_error
    assert peer.requests == [
        {
            "To": "whatsapp:+4915112345678",
            "From": "whatsapp:+12025550102",
            "Body": "Hallo! Wie können wir helfen?",
        }
    ]


def test_a_messaging_service_and_an_api_key_are_used_when_set(sms, peer, received, reply):
    peer.credentials = {("SK" + "1" * 32, "key-secret")}
    sms.config = {"messaging_service_sid": "MG" + "2" * 32, "api_base_url": peer.url}
    sms.secrets = {**sms.secrets, "api_key_sid": "SK" + "1" * 32, "api_key_secret": "key-secret"}
    sms.save()
    sent = reply(received)
    assert sent.delivery_status == "sent", sent.delivery_error
    [request] = peer.requests
    assert request["MessagingServiceSid"] == "MG" + "2" * 32
    assert "From" not in request


def test_status_callbacks_move_the_reply_to_delivered_and_never_back(sms, peer, received, reply):
    sent = reply(received)
    for value in ("queued", "sent", "delivered", "sent"):
        response = status(sms, peer, sent, value)
        assert response.status_code == 204, response.content
    sent.refresh_from_db()
    assert (sent.delivery_status, sent.delivery_error) == ("delivered", "")


def test_an_undelivered_status_fails_the_reply_with_twilios_reason(sms, peer, received, reply):
    sent = reply(received)
    assert status(sms, peer, sent, "undelivered", "30003").status_code == 204
    sent.refresh_from_db()
    assert sent.delivery_status == "failed"
    assert (
        sent.delivery_error
        == "Twilio error 30003: the phone is unreachable (switched off or out of coverage)"
    )
    event = ConversationEvent.objects.get(kind="delivery_failed")
    assert event.data["message_id"] == sent.pk


def test_a_status_callback_with_a_bad_signature_or_status_changes_nothing(sms, peer, received, reply):
    sent = reply(received)
    url, params = peer.status_callback(sent.external_id or "", "failed", "30005")
    response = signed_post(Client(), url, params, token="not-the-token")
    assert response.status_code == 403
    response = signed_post(Client(), url, {**params, "MessageStatus": "exploded"})
    assert response.status_code == 422
    assert "exploded" in response.json()["detail"]
    response = signed_post(Client(), url, {**params, "MessageSid": "nope"})
    assert response.status_code == 422
    sent.refresh_from_db()
    assert sent.delivery_status == "sent"


def test_a_twilio_outage_leaves_the_reply_queued_and_the_outbox_retries_it(
    sms, peer, received, reply, run_tasks, settings
):
    settings.FIRSTRING_OUTBOX_BACKOFF_SECONDS = 30
    peer.statuses = [500, 429, 201]
    sent = reply(received)
    assert (sent.delivery_status, sent.delivery_attempts) == ("queued", 1)
    assert sent.delivery_error.startswith("Twilio answered 500")
    _due_now()
    assert outbox_sweep() == 1
    run_tasks()
    sent.refresh_from_db()
    assert (sent.delivery_status, sent.delivery_attempts) == ("queued", 2)
    assert sent.delivery_error.startswith("Twilio answered 429")
    assert "20429" in sent.delivery_error
    _due_now()
    outbox_sweep()
    run_tasks()
    sent.refresh_from_db()
    assert (sent.delivery_status, sent.delivery_attempts, sent.delivery_error) == ("sent", 3, "")
    assert len(peer.requests) == 3
    assert sent.external_id in peer.messages


def test_twilio_unreachable_is_retried(sms, received, reply):
    closed = free_port()
    sms.config = {**sms.config, "api_base_url": f"http://127.0.0.1:{closed}"}
    sms.save()
    sent = reply(received)
    assert sent.delivery_status == "queued"
    assert sent.delivery_error.startswith("Twilio unreachable")


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        ("unsubscribed", "Twilio answered 400: Twilio error 21610: the recipient has opted out"),
        ("wrong token", "Twilio answered 401: Twilio error 20003: Authenticate"),
        ("no credentials", "has no Twilio credentials"),
        ("no number", "has no number to send from"),
    ],
)
def test_what_retrying_cannot_fix_fails_at_once_with_the_reason(sms, peer, received, reply, setup, reason):
    if setup == "unsubscribed":
        peer.unsubscribed.add(CUSTOMER)
    elif setup == "wrong token":
        sms.secrets = {**sms.secrets, "auth_token": "rotated-elsewhere"}
    elif setup == "no credentials":
        sms.secrets = {}
    elif setup == "no number":
        sms.config = {"api_base_url": peer.url}
    sms.save()
    sent = reply(received)
    assert (sent.delivery_status, sent.delivery_attempts) == ("failed", 1)
    assert reason in sent.delivery_error
    assert ConversationEvent.objects.filter(kind="delivery_failed").count() == 1


def test_a_reply_with_attachments_is_refused_not_sent_without_them(sms, peer, received, agent, run_tasks):
    sent = reply_send(
        conversation=received.conversation,
        author=agent,
        text="Here is the label",
        attachments=[InboundAttachment("label.pdf", b"%PDF label", "application/pdf")],
    )
    deliver_message.enqueue(sent.pk)
    run_tasks()
    sent.refresh_from_db()
    assert sent.delivery_status == "failed"
    assert sent.delivery_error == "SMS replies cannot carry attachments here; send the text alone"
    assert peer.requests == []


def test_a_stop_that_arrives_while_a_reply_waits_stops_it(sms, peer, received, agent, run_tasks):
    queued = reply_send(conversation=received.conversation, author=agent, text="One more thing…")
    assert post(incoming("STOP")).status_code == 200
    deliver_message.enqueue(queued.pk)
    run_tasks()
    queued.refresh_from_db()
    assert queued.delivery_status == "failed"
    assert "+14155550123 opted out of messages from SMS +1 202-555-0101" in queued.delivery_error
    assert peer.requests == []


@pytest.mark.django_db(transaction=True)
def test_twilio_posts_the_status_callback_over_http_to_the_live_server(
    live_server, support_team, peer, settings, run_tasks, agent
):
    settings.SITE_URL = live_server.url
    sms = Channel.objects.create(
        kind="sms",
        slug="sms-live",
        name="SMS live",
        team=support_team,
        config={"number": "+12025550101", "api_base_url": peer.url},
        secrets={"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN},
    )
    params = incoming("Over real HTTP")
    inbound_url = f"{live_server.url}/channels/twilio/sms-live/inbound"
    answer = httpx.post(inbound_url, data=params, headers={"X-Twilio-Signature": sign(inbound_url, params)})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/xml")
    message = stored(params)
    sent = reply_send(conversation=message.conversation, author=agent, text="Thanks, on it")  # commits
    with transaction.atomic():  # the tasks' row locks want a transaction, as the worker has one
        run_tasks()
    sent.refresh_from_db()
    assert sent.delivery_status == "sent", sent.delivery_error
    url, callback = peer.status_callback(sent.external_id or "", "delivered")
    assert url == f"{live_server.url}/channels/twilio/{sms.slug}/status"
    answer = httpx.post(url, data=callback, headers={"X-Twilio-Signature": sign(url, callback)})
    assert answer.status_code == 204, answer.text
    sent.refresh_from_db()
    assert sent.delivery_status == "delivered"
