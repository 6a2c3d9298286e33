"""Twilio's documented webhook sequences, signed, replayed against the app; Twilio's REST side is a local
server speaking its format. Nothing of ours is mocked."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

from django.test import Client
from django.urls import reverse

from firstring.accounts.models import User
from firstring.channels.models import Channel
from firstring.conversations.models import Message
from firstring.routing.models import RoutingTask
from firstring.voice.models import Call, CallEvent
from firstring.voice.selectors import call_metrics
from tests.voice.conftest import SITE
from tests.voice.twilio_voice_peer import VoicePeer, call_sid, params, sign

Hook = Callable[..., Any]


def twiml(response: Any) -> ElementTree.Element:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/xml")
    return ElementTree.fromstring(response.content)


def kinds(call: Call) -> list[str]:
    return list(call.events.values_list("kind", flat=True))


def test_a_caller_presses_billing_is_offered_and_bridged_to_the_agent(
    hook: Hook,
    phone: Channel,
    billing_line: User,
    peer: VoicePeer,
    client: Client,
    django_capture_on_commit_callbacks: Any,
) -> None:
    sid = call_sid(1)
    peer.live_calls.add(sid)
    answer = twiml(hook("incoming", params(sid, CallStatus="ringing")))
    assert answer.find("Say").text == "Thanks for calling Acme."
    gather = answer.find("Gather")
    assert gather is not None and gather.get("input") == "dtmf speech"
    assert "Para español" in gather.find("Say").text
    assert gather.get("action") == f"{SITE}/channels/phone/twilio/hotline/menu?step=1"
    assert answer.find("Redirect").text == gather.get("action")  # silence is reported too

    call = Call.objects.get(external_id=sid)
    assert call.caller == "+14155550123" and call.number_called == "+12025550100"
    assert call.conversation.customer.identities.filter(kind="phone", value="+14155550123").exists()
    assert call.conversation.channel == phone

    # Spanish, by voice; then billing, by key.
    answer = twiml(hook("menu?step=1", params(sid, SpeechResult="Spanish please", Confidence="0.9")))
    assert answer.find("Gather").get("language") == "es-ES"
    answer = twiml(hook("menu?step=2", params(sid, Digits="1")))
    enqueue = answer.find("Enqueue")
    assert enqueue is not None and enqueue.text == "firstring-hotline"
    assert enqueue.get("waitUrl") == f"{SITE}/channels/phone/twilio/hotline/wait"

    call.refresh_from_db()
    assert call.status == Call.Status.QUEUED and call.language == "es" and call.queue == "Billing"
    assert [step["chose"] for step in call.menu_path] == ["es", "Billing"]
    task = call.routing_task
    assert task is not None and task.channel_kind == "phone"
    assert task.conversation.team.slug == "billing"
    assert "Invoices" in [need["name"] for need in task.needs]
    task.refresh_from_db()
    assert task.status == RoutingTask.Status.OFFERED and task.offered_to == billing_line

    wait = twiml(hook("wait", params(sid, QueuePosition="1", QueueTime="4", CurrentQueueSize="1")))
    assert "number 1 in line" in wait.find("Say").text
    assert wait.find("Say").get("language") == "es-ES"

    client.force_login(billing_line)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("web:offer-accept", args=[task.pk]))
    assert response.status_code == 302
    assert len(peer.updates) == 1
    updated_sid, form = peer.updates[0]
    assert updated_sid == sid and form["Method"] == "POST"
    connect = urlsplit(form["Url"])
    assert connect.path == "/channels/phone/twilio/hotline/connect"
    assert parse_qs(connect.query) == {"agent": [str(billing_line.pk)]}
    call.refresh_from_db()
    assert call.status == Call.Status.CONNECTING and call.agent == billing_line

    dial = twiml(hook(f"connect?{connect.query}", params(sid))).find("Dial")
    assert dial is not None and dial.get("action") == f"{SITE}/channels/phone/twilio/hotline/dialed"
    number = dial.find("Number")
    assert number.text == "+14155550999" and number.get("statusCallbackEvent") == "answered"

    leg = call_sid(2)
    assert hook("agent", params(leg, ParentCallSid=sid, CallStatus="in-progress")).status_code == 204
    call.refresh_from_db()
    assert call.status == Call.Status.IN_PROGRESS and call.answered_at is not None

    done = twiml(hook("dialed", params(sid, DialCallStatus="completed", DialCallSid=leg, DialCallDuration="95")))
    assert done.find("Hangup") is not None
    hook("status", params(sid, CallStatus="completed", CallDuration="130"))
    hook("status", params(sid, CallStatus="completed", CallDuration="130"))  # redelivered
    call.refresh_from_db()
    assert call.status == Call.Status.ENDED and call.outcome == Call.Outcome.COMPLETED
    assert call.talk_seconds == 95
    assert kinds(call) == [
        "incoming", "menu_input", "menu_input", "queued", "offered", "transferred", "answered", "ended",
        "completed",
    ]
    metrics = call_metrics()
    assert metrics.offered == 1 and metrics.answered == 1 and metrics.abandonment_rate == 0
    assert metrics.service_level == 1.0 and metrics.aht_seconds == 95

