"""The phone's survey: after the agent hangs up, the caller rates the call with one key, through the
signed Twilio webhooks; the surveys app takes the key press as the answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.test import Client
from django.urls import reverse

from firstring.accounts.models import User
from firstring.channels.models import Channel
from firstring.conversations.services import conversation_set_status
from firstring.surveys.models import SurveyAnswer, SurveyRequest
from firstring.voice.models import Call
from tests.voice.conftest import SITE
from tests.voice.test_twilio_voice import twiml
from tests.voice.twilio_voice_peer import VoicePeer, call_sid, params

Hook = Callable[..., Any]


def _talked_to_an_agent(hook: Hook, peer: VoicePeer, client: Client, agent: User, capture: Any) -> Call:
    sid = call_sid(7)
    peer.live_calls.add(sid)
    twiml(hook("incoming", params(sid, CallStatus="ringing")))
    twiml(hook("menu?step=1", params(sid, Digits="1")))
    twiml(hook("menu?step=2", params(sid, Digits="1")))
    call = Call.objects.get(external_id=sid)
    assert call.routing_task is not None
    client.force_login(agent)
    with capture(execute=True):
        assert client.post(reverse("web:offer-accept", args=[call.routing_task.pk])).status_code == 302
    _, form = peer.updates[0]
    twiml(hook(f"connect?{urlsplit(form['Url']).query}", params(sid)))
    hook("agent", params(call_sid(8), ParentCallSid=sid, CallStatus="in-progress"))
    return call


def test_the_caller_rates_the_call_with_a_key_after_the_agent_hangs_up(
    hook: Hook,
    phone: Channel,
    billing_line: User,
    peer: VoicePeer,
    client: Client,
    manager: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    call = _talked_to_an_agent(hook, peer, client, billing_line, django_capture_on_commit_callbacks)
    sid = call.external_id
    done = twiml(hook("dialed", params(sid, DialCallStatus="completed", DialCallDuration="60")))
    gather = done.find("Gather")
    assert gather is not None and gather.get("action") == f"{SITE}/channels/phone/twilio/hotline/survey"
    assert gather.get("numDigits") == "1" and "Press a key from 1 to 5" in gather.find("Say").text
    assert done.find("Hangup") is not None  # silence: the call ends
    request = SurveyRequest.objects.get()
    assert (request.conversation_id, request.agent, request.status) == (
        call.conversation_id,
        billing_line,
        "sent",
    )

    thanks = twiml(hook("survey", params(sid, Digits="2")))
    assert "Thank you" in thanks.find("Say").text
    answer = SurveyAnswer.objects.get()
    assert (answer.score, answer.via, answer.agent) == (2, "reply", billing_line)
    assert answer.follow_up is not None  # a low score opens a follow-up for the team
    twiml(hook("survey", params(sid, Digits="2")))  # Twilio redelivers: taken once
    assert SurveyAnswer.objects.count() == 1

    # Resolving the call's conversation later asks nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        conversation_set_status(conversation=call.conversation, status="resolved", actor=manager)
    assert SurveyRequest.objects.count() == 1


def test_a_key_off_the_scale_or_surveys_off_records_nothing(
    hook: Hook,
    phone: Channel,
    billing_line: User,
    peer: VoicePeer,
    client: Client,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    call = _talked_to_an_agent(hook, peer, client, billing_line, django_capture_on_commit_callbacks)
    settings.FIRSTRING_CSAT_ENABLED = False
    done = twiml(hook("dialed", params(call.external_id, DialCallStatus="completed", DialCallDuration="5")))
    assert done.find("Gather") is None and done.find("Hangup") is not None
    assert not SurveyRequest.objects.exists()
    settings.FIRSTRING_CSAT_ENABLED = True
    SurveyRequest.objects.all().delete()
    # A stray key press without an open survey (or off the scale) is only a goodbye.
    assert "Goodbye" in twiml(hook("survey", params(call.external_id, Digits="9"))).find("Say").text
    assert not SurveyAnswer.objects.exists()
