"""Twilio's documented webhook sequences, signed, replayed against the app; Twilio's REST side is a local
server speaking its format. Nothing of ours is mocked."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from firstring.accounts.models import Team, User
from firstring.channels.models import Channel
from firstring.conversations.models import Message
from firstring.knowledge.models import ArticleTranslation, Category, HelpCenter, Section
from firstring.knowledge.services import article_create, translation_add, translation_publish
from firstring.lib.errors import InvalidInput
from firstring.routing.models import RoutingTask
from firstring.routing.services import offer_accept, route_waiting, tasks_for_messages
from firstring.sla.hours import WEEKDAYS
from firstring.sla.models import BusinessCalendar, Holiday
from firstring.voice.menu import CLOSED_MESSAGE
from firstring.voice.models import Call, CallEvent
from firstring.voice.selectors import call_metrics
from firstring.voice.services import phone_menu_set
from tests.conftest import make_api_caller
from tests.voice.conftest import MENU, SITE
from tests.voice.twilio_voice_peer import VoicePeer, call_sid, params, sign

Hook = Callable[..., Any]


def twiml(response: Any) -> ElementTree.Element:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/xml")
    return ElementTree.fromstring(response.content)  # noqa: S314 - our own TwiML


def kinds(call: Call) -> list[str]:
    return list(call.events.values_list("kind", flat=True))


def test_a_caller_presses_billing_is_offered_and_bridged_to_the_agent(
    hook: Hook,
    phone: Channel,
    billing_line: User,
    billing_team: Team,
    receive: Callable[..., Any],
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
    said = wait.find("Gather/Say")
    assert "number 1 in line" in said.text and said.get("language") == "es-ES"

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

    # A call blocks new chats while it lasts: a billing chat waits although a chat place is free, while
    # an e-mail may ring.
    chat_channel = Channel.objects.create(kind="chat", slug="billing-chat", name="Chat", team=billing_team)
    mail_channel = Channel.objects.create(kind="email", slug="billing-mail", name="Mail", team=billing_team)
    chat = receive(email="chatter@example.com", channel=chat_channel)
    tasks_for_messages([chat.message.pk])
    chat_task = RoutingTask.objects.get(conversation=chat.conversation)
    assert chat_task.status == RoutingTask.Status.WAITING
    mail = receive(email="writer@example.com", channel=mail_channel)
    tasks_for_messages([mail.message.pk])
    mail_task = RoutingTask.objects.get(conversation=mail.conversation)
    assert mail_task.status == RoutingTask.Status.OFFERED and mail_task.offered_to == billing_line
    offer_accept(task=mail_task, agent=billing_line)
    assert route_waiting(team_ids=[billing_team.pk]) == []

    done = twiml(
        hook("dialed", params(sid, DialCallStatus="completed", DialCallSid=leg, DialCallDuration="95"))
    )
    assert done.find("Hangup") is not None
    hook("status", params(sid, CallStatus="completed", CallDuration="130"))
    hook("status", params(sid, CallStatus="completed", CallDuration="130"))  # redelivered
    call.refresh_from_db()
    assert call.status == Call.Status.ENDED and call.outcome == Call.Outcome.COMPLETED
    assert call.talk_seconds == 95
    # The call is over: the chat rings.
    route_waiting(team_ids=[billing_team.pk])
    chat_task.refresh_from_db()
    assert chat_task.status == RoutingTask.Status.OFFERED and chat_task.offered_to == billing_line
    assert kinds(call) == [
        "incoming",
        "menu_input",
        "menu_input",
        "queued",
        "offered",
        "transferred",
        "answered",
        "ended",
        "completed",
    ]
    metrics = call_metrics()
    assert metrics.offered == 1 and metrics.answered == 1 and metrics.abandonment_rate == 0
    assert metrics.service_level == 1.0 and metrics.aht_seconds == 95

    # The agent writes notes and a disposition; the call log shows every event.
    api = make_api_caller(billing_line)
    noted = api("patch", f"/calls/{call.pk}", json={"notes": "Refund promised", "disposition": "refund"})
    assert noted.status_code == 200, noted.json()
    assert noted.json()["disposition"] == "refund" and noted.json()["events"][0]["kind"] == "incoming"
    assert api("patch", f"/calls/{call.pk}", json={"disposition": "x" * 65}).status_code == 422
    other = User.objects.create_user(email="other@example.com", name="Other")
    other.teams.add(call.conversation.team)
    assert make_api_caller(other)("patch", f"/calls/{call.pk}", json={"notes": "mine"}).status_code == 403
    assert make_api_caller(other)("get", f"/calls/{call.pk}").status_code == 200
    assert api("get", "/calls/999999").status_code == 404


def test_a_bad_or_missing_signature_is_refused_and_nothing_is_stored(phone: Channel, client: Client) -> None:
    url = f"{SITE}/channels/phone/twilio/hotline/incoming"
    body = params(call_sid(3), CallStatus="ringing")
    forged = client.post(
        "/channels/phone/twilio/hotline/incoming",
        data=body,
        HTTP_X_TWILIO_SIGNATURE=sign(url, body, token="not-the-token"),
    )
    unsigned = client.post("/channels/phone/twilio/hotline/incoming", data=body)
    tampered = client.post(
        "/channels/phone/twilio/hotline/incoming",
        data={**body, "From": "+14155550000"},
        HTTP_X_TWILIO_SIGNATURE=sign(url, body),
    )
    unknown = client.post(
        "/channels/phone/twilio/nowhere/incoming",
        data=body,
        HTTP_X_TWILIO_SIGNATURE=sign(f"{SITE}/channels/phone/twilio/nowhere/incoming", body),
    )
    assert [r.status_code for r in (forged, unsigned, tampered, unknown)] == [403, 403, 403, 403]
    assert not Call.objects.exists() and not Message.objects.exists()
    assert client.get("/channels/phone/twilio/hotline/incoming").status_code == 405


def test_a_webhook_without_a_call_sid_or_for_an_unknown_call_is_a_422(hook: Hook) -> None:
    no_sid = {k: v for k, v in params(call_sid(4)).items() if k != "CallSid"}
    assert hook("incoming", no_sid).status_code == 422
    assert hook("menu?step=1", params(call_sid(5), Digits="1")).status_code == 422
    assert hook("incoming", params(call_sid(5), From="+1415\x00555")).status_code == 422
    assert not Call.objects.exists()


def test_replayed_webhooks_change_nothing(hook: Hook, phone: Channel) -> None:
    sid = call_sid(6)
    first = hook("incoming", params(sid, CallStatus="ringing"))
    again = hook("incoming", params(sid, CallStatus="ringing"))
    assert first.content == again.content
    assert Call.objects.count() == 1 and Message.objects.count() == 1
    hook("menu?step=1", params(sid, Digits="1"))  # English
    replay = twiml(hook("menu?step=1", params(sid, Digits="2")))  # the same step, answered again
    call = Call.objects.get()
    assert call.language == "en" and len(call.menu_path) == 1
    assert replay.find("Gather").get("action").endswith("menu?step=2")  # where the call is now
    assert kinds(call) == ["incoming", "menu_input"]


def test_silence_and_nonsense_are_repeated_once_then_a_person_takes_the_call(
    hook: Hook, phone: Channel
) -> None:
    sid = call_sid(7)
    hook("incoming", params(sid, CallStatus="ringing"))
    hook("menu?step=1", params(sid, Digits="1"))
    sorry = twiml(hook("menu?step=2", params(sid)))  # the <Redirect> after a silent <Gather>
    assert sorry.find("Say").text == "Sorry, I did not hear anything."
    assert sorry.find("Gather").get("action").endswith("menu?step=3")
    queued = twiml(hook("menu?step=3", params(sid, Digits="9")))
    assert queued.find("Enqueue") is not None
    call = Call.objects.get()
    assert call.status == Call.Status.QUEUED and call.queue == "agent"
    assert call.routing_task.conversation.team.slug == "support"


def test_zero_or_saying_agent_goes_to_a_person_from_any_step(hook: Hook, phone: Channel) -> None:
    hook("incoming", params(call_sid(8), CallStatus="ringing"))
    assert twiml(hook("menu?step=1", params(call_sid(8), Digits="0"))).find("Enqueue") is not None
    hook("incoming", params(call_sid(9), CallStatus="ringing"))
    hook("menu?step=1", params(call_sid(9), Digits="2"))
    spoken = twiml(hook("menu?step=2", params(call_sid(9), SpeechResult="I want an agent")))
    assert spoken.find("Enqueue") is not None
    assert set(Call.objects.values_list("queue", flat=True)) == {"agent"}


def test_self_service_answers_and_the_call_ends_in_the_menu(hook: Hook, phone: Channel) -> None:
    sid = call_sid(10)
    hook("incoming", params(sid, CallStatus="ringing"))
    hook("menu?step=1", params(sid, Digits="1"))
    answer = twiml(hook("menu?step=2", params(sid, SpeechResult="delivery")))
    assert answer.find("Say").text == "Orders ship within two days."
    assert answer.find("Gather") is not None  # the caller may go on, or press 0
    hours = twiml(hook("menu?step=3", params(sid, Digits="2")))
    assert hours.find("Say").text == "We answer from 8 to 6, Monday to Friday."
    hook("status", params(sid, CallStatus="completed"))
    call = Call.objects.get()
    assert call.outcome == Call.Outcome.SELF_SERVICE and call.routing_task is None
    assert not RoutingTask.objects.exists()


def test_the_menu_reads_out_a_knowledge_base_article_in_the_callers_language(
    hook: Hook, phone: Channel, manager: User
) -> None:
    center = HelpCenter.objects.create(name="Help", prefix="help", default_language="en", languages=["es"])
    section = Section.objects.create(
        category=Category.objects.create(help_center=center, slug="account", name="Account"),
        slug="sign-in",
        name="Signing in",
    )
    english = article_create(
        actor=manager,
        section=section,
        language="en",
        title="Reset your password",
        body="Open **Settings**, then choose *Password*. We e-mail you a link. More below.\n\n" + "x " * 400,
    )
    translation_publish(actor=manager, translation=english)
    spanish = translation_add(
        actor=manager, article=english.article, language="es", title="Contraseña", body="Abra Ajustes."
    )
    translation_publish(actor=manager, translation=spanish)
    password = {"key": "4", "keywords": ["password"], "action": "answer", "article": english.article_id}
    phone_menu_set(channel=phone, definition={**MENU, "options": [*MENU["options"], password]})

    hook("incoming", params(call_sid(30), CallStatus="ringing"))
    hook("menu?step=1", params(call_sid(30), Digits="1"))  # English
    said = twiml(hook("menu?step=2", params(call_sid(30), SpeechResult="my password"))).find("Say").text
    assert said.startswith("Open Settings, then choose Password. We e-mail you a link.")
    hook("incoming", params(call_sid(31), CallStatus="ringing"))
    hook("menu?step=1", params(call_sid(31), Digits="2"))  # Spanish
    assert twiml(hook("menu?step=2", params(call_sid(31), Digits="4"))).find("Say").text == "Abra Ajustes."

    # Unpublished later: the caller hears that the answer is missing, and the menu goes on.
    ArticleTranslation.objects.filter(article=english.article).update(published_at=None)
    hook("incoming", params(call_sid(32), CallStatus="ringing"))
    hook("menu?step=1", params(call_sid(32), Digits="1"))
    missing = twiml(hook("menu?step=2", params(call_sid(32), Digits="4")))
    assert missing.find("Say").text == "Sorry, that answer is not available right now."
    assert missing.find("Gather") is not None
    # Only live public articles may be named.
    with pytest.raises(InvalidInput, match="not a published public article"):
        phone_menu_set(channel=phone, definition={**MENU, "options": [password]})


def test_a_caller_who_hangs_up_in_the_queue_abandons_with_their_wait_and_the_task_is_cancelled(
    hook: Hook, phone: Channel
) -> None:
    sid = call_sid(11)
    hook("incoming", params(sid, CallStatus="ringing"))
    hook("menu?step=1", params(sid, Digits="1"))
    hook("menu?step=2", params(sid, Digits="0"))
    call = Call.objects.get()
    Call.objects.filter(pk=call.pk).update(
        queued_at=call.queued_at - __import__("datetime").timedelta(seconds=42)
    )
    assert twiml(hook("left", params(sid, QueueResult="hangup", QueueTime="42"))) is not None
    hook("status", params(sid, CallStatus="completed"))
    call.refresh_from_db()
    assert call.outcome == Call.Outcome.ABANDONED and 42 <= call.wait_seconds <= 44
    assert call.routing_task.status == RoutingTask.Status.CANCELLED
    assert kinds(call)[-2:] == ["ended", "abandoned"]
    assert CallEvent.objects.get(call=call, kind="abandoned").data["wait_seconds"] == call.wait_seconds
    metrics = call_metrics()
    assert metrics.abandonment_rate == 1.0 and metrics.answered == 0


def test_a_bridge_the_provider_refuses_puts_the_caller_back_in_line(
    hook: Hook,
    phone: Channel,
    billing_line: User,
    peer: VoicePeer,
    client: Client,
    django_capture_on_commit_callbacks: Any,
) -> None:
    sid = call_sid(12)  # not live at the peer: Twilio answers 21220
    hook("incoming", params(sid, CallStatus="ringing"))
    hook("menu?step=1", params(sid, Digits="1"))
    hook("menu?step=2", params(sid, Digits="1"))
    call = Call.objects.get()
    first = call.routing_task
    client.force_login(billing_line)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("web:offer-accept", args=[call.routing_task_id]))
    call.refresh_from_db()
    assert call.status == Call.Status.QUEUED and call.agent is None
    assert call.conversation.assignee is None
    assert call.routing_task.status in (RoutingTask.Status.WAITING, RoutingTask.Status.OFFERED)
    # Back where it stood, needing what it needed.
    assert call.routing_task != first and call.routing_task.rank_at == first.rank_at
    assert call.routing_task.needs == first.needs and "Invoices" in [n["name"] for n in first.needs]
    assert CallEvent.objects.filter(call=call, kind="queued", data__again=True).exists()


def test_a_long_wait_leaves_a_voicemail_that_becomes_a_message(hook: Hook, phone: Channel) -> None:
    sid = call_sid(13)
    hook("incoming", params(sid, CallStatus="ringing"))
    hook("menu?step=1", params(sid, Digits="1"))
    hook("menu?step=2", params(sid, Digits="0"))
    assert twiml(hook("wait", params(sid, QueuePosition="1", QueueTime="130"))).find("Leave") is not None
    record = twiml(hook("left", params(sid, QueueResult="leave", QueueTime="131"))).find("Record")
    assert record is not None and record.get("transcribe") == "true"
    assert record.get("transcribeCallback") == f"{SITE}/channels/phone/twilio/hotline/transcription"
    recording = {"RecordingSid": "RE" + "1" * 32, "RecordingUrl": "https://api.twilio.com/rec/RE1"}
    assert (
        hook(
            "recording", params(sid, RecordingStatus="completed", RecordingDuration="12", **recording)
        ).status_code
        == 204
    )
    hook("status", params(sid, CallStatus="completed"))
    text = {"TranscriptionSid": "TR" + "1" * 32, "TranscriptionStatus": "completed"}
    body = params(sid, TranscriptionText="Please call me back <b>about my invoice</b>", **text, **recording)
    assert hook("transcription", body).status_code == 204
    assert hook("transcription", body).status_code == 204  # redelivered
    call = Call.objects.get()
    assert call.outcome == Call.Outcome.VOICEMAIL and call.recording_url.endswith("RE1")
    assert call.routing_task.status == RoutingTask.Status.CANCELLED
    voicemail = Message.objects.filter(conversation=call.conversation, metadata__voicemail=True)
    assert voicemail.count() == 1
    assert "&lt;b&gt;" in voicemail.get().html  # the transcript is the caller's text: escaped
    assert call_metrics().voicemail == 1


def test_outside_business_hours_the_caller_leaves_a_message(hook: Hook, phone: Channel) -> None:
    # The number keeps office hours; today is a holiday, so nobody is in.
    office = BusinessCalendar.objects.create(
        name="Office", time_zone="Europe/Berlin", hours={day: [["00:00", "24:00"]] for day in WEEKDAYS}
    )
    phone_menu_set(channel=phone, definition={**MENU, "calendar": "Office"})
    holiday = Holiday.objects.create(
        calendar=office, date=timezone.localdate(timezone.now(), ZoneInfo(office.time_zone))
    )

    answer = twiml(hook("incoming", params(call_sid(20), CallStatus="ringing")))
    said = [say.text for say in answer.findall("Say")]
    assert said == ["Thanks for calling Acme.", CLOSED_MESSAGE]
    assert answer.find("Gather") is None and answer.find("Record") is not None
    call = Call.objects.get(external_id=call_sid(20))
    assert call.status == Call.Status.VOICEMAIL and call.routing_task is None
    assert call.events.get(kind="voicemail").data == {"reason": "outside business hours"}

    # Open again: the menu answers.
    holiday.delete()
    answer = twiml(hook("incoming", params(call_sid(21), CallStatus="ringing")))
    assert answer.find("Gather") is not None and answer.find("Record") is None
    # A calendar that does not exist is refused with a reason.
    with pytest.raises(InvalidInput, match="no business calendar is named 'Shop'"):
        phone_menu_set(channel=phone, definition={**MENU, "calendar": "Shop"})


def test_the_admin_page_says_which_urls_to_give_twilio(
    phone: Channel, admin_user: User, client: Client
) -> None:
    client.force_login(admin_user)
    page = client.get(f"/admin/firstring_channels/channel/{phone.pk}/change/")
    assert page.status_code == 200
    assert f"{SITE}/channels/phone/twilio/hotline/incoming" in page.content.decode()


def test_holds_are_events_of_the_call(hook: Hook, phone: Channel) -> None:
    # (Escalation's event is recorded by bringing the manager into the call: see the conference tests.)
    from firstring.voice.services import call_held

    hook("incoming", params(call_sid(14), CallStatus="ringing"))
    call = Call.objects.get()
    call_held(call=call, seconds=30)
    call_held(call=call, seconds=15)
    call.refresh_from_db()
    assert call.hold_seconds == 45
    assert kinds(call) == ["incoming", "held", "held"]


def test_each_webhook_of_a_call_stays_within_its_query_budget(
    hook: Hook, phone: Channel, billing_line: User, django_assert_max_num_queries: Any
) -> None:
    """The TwiML path is answered while the caller listens: the number's menu is read with the channel,
    once per webhook, and nothing is loaded twice. Queuing routes at once, so it costs the most. (A new
    caller's conversation takes one query more on PostgreSQL than on SQLite.)"""
    sid = call_sid(90)
    budget = [
        ("incoming", params(sid, CallStatus="ringing"), 19),
        ("menu?step=1", params(sid, Digits="1"), 8),
        ("menu?step=2", params(sid, Digits="1"), 46),
        ("wait", params(sid, QueuePosition="1", QueueTime="5"), 6),
        # The call's end marks its day of the dashboards' rollup stale: here the day's first mark.
        ("left", params(sid, QueueResult="hangup"), 18),
        ("status", params(sid, CallStatus="completed"), 5),
    ]
    for name, body, queries in budget:
        with django_assert_max_num_queries(queries):
            assert hook(name, body).status_code == 200
