"""Waiting in Twilio's queue (position and expected wait, the callback key), callbacks that keep the
caller's place, and a manager brought into a live call: Twilio's documented webhook sequences, signed, and
its REST side as a local server. Nothing of ours is mocked."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from firstring.accounts.models import Skill, User, UserSkill
from firstring.channels.models import Channel
from firstring.escalations.models import Escalation
from firstring.routing.models import RoutingTask
from firstring.routing.services import presence_set, route_waiting
from firstring.voice.models import AgentLine, Call, CallEvent
from firstring.voice.selectors import call_metrics
from tests.conftest import make_api_caller
from tests.voice.conftest import SITE
from tests.voice.twilio_voice_peer import VoicePeer, call_sid, params

Hook = Callable[..., Any]
HOOKS = f"{SITE}/channels/phone/twilio/hotline"


def twiml(response: Any) -> ElementTree.Element:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/xml")
    return ElementTree.fromstring(response.content)  # noqa: S314 - our own TwiML


def kinds(call: Call) -> list[str]:
    return list(call.events.values_list("kind", flat=True))


def queue_for_billing(hook: Hook, sid: str, **extra: str) -> Call:
    hook("incoming", params(sid, CallStatus="ringing", **extra))
    hook("menu?step=1", params(sid, Digits="1", **extra))  # English
    assert twiml(hook("menu?step=2", params(sid, Digits="1", **extra))).find("Enqueue") is not None
    return Call.objects.get(external_id=sid)


def answered_calls(call: Call, talk_seconds: list[int]) -> None:
    """Calls of the billing team answered earlier, each talked for the given time: the measured AHT."""
    for n, seconds in enumerate(talk_seconds):
        Call.objects.create(
            conversation=call.conversation,
            channel=call.channel,
            provider="twilio",
            external_id=call_sid(900 + n),
            number_called=call.number_called,
            caller=call.caller,
            status=Call.Status.ENDED,
            outcome=Call.Outcome.COMPLETED,
            talk_seconds=seconds,
            ended_at=timezone.now(),
        )


def billing_agent_on_the_phone(billing_agent: User) -> User:
    UserSkill.objects.create(user=billing_agent, skill=Skill.objects.get(name="Invoices"), level=2)
    AgentLine.objects.create(user=billing_agent, number="+14155550999")
    return billing_agent


def test_the_waiting_caller_hears_position_and_the_measured_wait_and_can_ask_for_a_callback(
    hook: Hook,
    phone: Channel,
    billing_agent: User,
    peer: VoicePeer,
    client: Client,
    django_capture_on_commit_callbacks: Any,
) -> None:
    phone.config = {
        **phone.config,
        "hold_message": "Your call matters to us.",
        "hold_music_url": "https://x/m.mp3",
    }
    phone.save(update_fields=["config"])
    agent = billing_agent_on_the_phone(billing_agent)  # offline: nobody takes calls yet
    first, second = call_sid(40), call_sid(41)
    waiting = queue_for_billing(hook, first)
    queue_for_billing(hook, second, From="+14155550124", Caller="+14155550124")
    answered_calls(waiting, [100, 140])  # the billing team's measured handling time: 120 s

    turn = twiml(hook("wait", params(second, QueuePosition="2", QueueTime="30", CurrentQueueSize="2")))
    gather = turn.find("Gather")
    assert (
        gather is not None and gather.get("action") == f"{HOOKS}/callback" and gather.get("numDigits") == "1"
    )
    said = [say.text for say in gather.findall("Say")]
    # Second in line, one agent (at least) at 120 s a call: about four minutes.
    assert said[0] == "You are number 2 in line. The expected wait is about 4 minutes."
    assert "press star" in said[1] and said[2] == "Your call matters to us."
    assert gather.find("Play").text == "https://x/m.mp3"
    assert turn.find("Leave") is None  # the turn ends and Twilio asks again: the numbers are refreshed

    # Another key changes nothing: back to waiting. Star: the caller leaves the queue to be called back.
    other = twiml(hook("callback", params(first, Digits="5")))
    assert other.find("Redirect").text == f"{HOOKS}/wait"
    assert twiml(hook("callback", params(first, Digits="*"))).find("Leave") is not None
    bye = twiml(hook("left", params(first, QueueResult="leave", QueueTime="35")))
    assert "call you back" in bye.find("Say").text and bye.find("Hangup") is not None
    hook("status", params(first, CallStatus="completed", CallDuration="60"))
    waiting.refresh_from_db()
    task = waiting.routing_task
    assert waiting.status == Call.Status.CALLBACK and waiting.callback_requested_at is not None
    assert task.status == RoutingTask.Status.WAITING  # its place in line, kept
    assert kinds(waiting)[-1] == "callback"
    assert CallEvent.objects.get(call=waiting, kind="callback").data["number"] == "+14155550123"
    # The caller behind still has the callback ahead of them.
    turn = twiml(hook("wait", params(second, QueuePosition="1", QueueTime="40")))
    assert turn.find("Gather/Say").text.startswith("You are number 2 in line.")

    # An agent comes in: the callback, first in line, is offered before the caller on the line.
    presence_set(user=agent, presence="available")
    with django_capture_on_commit_callbacks(execute=True):
        route_waiting(team_ids=[task.team_id])
    task.refresh_from_db()
    assert task.status == RoutingTask.Status.OFFERED and task.offered_to == agent
    client.force_login(agent)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reverse("web:offer-accept", args=[task.pk])).status_code == 302

    # The agent's phone rings first: Twilio is asked to call it from the number.
    assert peer.updates == []
    [(agent_leg, placed)] = peer.placed
    assert placed["To"] == "+14155550999" and placed["From"] == "+12025550100"
    assert placed["Url"] == f"{HOOKS}/ring-back?call={first}"
    assert placed["StatusCallback"] == f"{HOOKS}/ring-back-status?call={first}"
    waiting.refresh_from_db()
    assert waiting.status == Call.Status.CONNECTING and waiting.agent == agent
    outbound = {"Direction": "outbound-api", "From": "+12025550100", "To": "+14155550999"}

    # The agent answers: then the customer's phone rings.
    dial = twiml(hook(f"ring-back?call={first}", params(agent_leg, **outbound))).find("Dial")
    assert twiml(hook(f"ring-back?call={first}", params(agent_leg, **outbound))).find("Dial") is not None
    assert dial.get("action") == f"{HOOKS}/dialed?call={first}" and dial.get("callerId") == "+12025550100"
    number = dial.find("Number")
    assert number.text == "+14155550123" and number.get("statusCallback") == f"{HOOKS}/agent?call={first}"
    customer_leg = call_sid(42)
    answered = params(
        customer_leg, ParentCallSid=agent_leg, CallStatus="in-progress", Direction="outbound-dial"
    )
    assert hook(f"agent?call={first}", answered).status_code == 204
    waiting.refresh_from_db()
    assert waiting.status == Call.Status.IN_PROGRESS and 0 <= waiting.wait_seconds <= 2  # held, not since

    done = twiml(
        hook(
            f"dialed?call={first}",
            params(agent_leg, DialCallStatus="completed", DialCallSid=customer_leg, DialCallDuration="75"),
        )
    )
    assert done.find("Gather") is None and done.find("Hangup") is not None  # no survey put to the agent
    assert (
        hook(f"ring-back-status?call={first}", params(agent_leg, CallStatus="completed")).status_code == 204
    )
    waiting.refresh_from_db()
    assert waiting.outcome == Call.Outcome.COMPLETED and waiting.talk_seconds == 75
    assert kinds(waiting) == [
        "incoming",
        "menu_input",
        "menu_input",
        "queued",
        "callback",
        "offered",
        "transferred",
        "transferred",
        "answered",
        "ended",
        "completed",
    ]
    rung = [event.data for event in waiting.events.filter(kind="transferred")]
    assert rung == [
        {"to": "agent", "agent": agent.pk, "callback": True, "leg": agent_leg},
        {"to": "caller", "number": "+14155550123"},
    ]
    assert waiting.events.get(kind="answered").data["leg"] == customer_leg
    metrics = call_metrics()
    assert metrics.callbacks == 1 and metrics.callbacks_kept == 1.0
    logged = make_api_caller(agent)("get", f"/calls/{waiting.pk}").json()
    assert logged["callback_requested_at"] is not None and logged["events"][4]["kind"] == "callback"


def test_a_callback_whose_agent_or_customer_does_not_answer(
    hook: Hook,
    phone: Channel,
    billing_agent: User,
    peer: VoicePeer,
    client: Client,
    django_capture_on_commit_callbacks: Any,
) -> None:
    agent = billing_agent_on_the_phone(billing_agent)
    sid = call_sid(50)
    call = queue_for_billing(hook, sid)
    hook("callback", params(sid, Digits="*"))
    hook("left", params(sid, QueueResult="leave"))

    def accept() -> RoutingTask:
        presence_set(user=agent, presence="available")
        with django_capture_on_commit_callbacks(execute=True):
            route_waiting(team_ids=[call.conversation.team_id])
        task = RoutingTask.objects.get(conversation=call.conversation, status=RoutingTask.Status.OFFERED)
        client.force_login(agent)
        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("web:offer-accept", args=[task.pk]))
        return task

    first = accept()
    agent_leg = peer.placed[-1][0]
    # The agent's phone does not answer: the callback waits for the next agent.
    with django_capture_on_commit_callbacks(execute=True):
        hook(f"ring-back-status?call={sid}", params(agent_leg, CallStatus="no-answer"))
    call.refresh_from_db()
    assert call.status == Call.Status.CALLBACK and call.agent is None
    requeued = call.routing_task
    assert requeued.status in (RoutingTask.Status.WAITING, RoutingTask.Status.OFFERED)
    assert requeued.rank_at == first.rank_at  # its place in line, kept again
    assert CallEvent.objects.filter(call=call, kind="queued", data__again=True).exists()

    # Accepted again; the agent answers, the customer does not: the callback was not kept.
    accept()
    agent_leg = peer.placed[-1][0]
    hook(f"ring-back?call={sid}", params(agent_leg))
    no_answer = twiml(hook(f"dialed?call={sid}", params(agent_leg, DialCallStatus="no-answer")))
    assert "did not answer" in no_answer.find("Say").text
    hook(f"ring-back-status?call={sid}", params(agent_leg, CallStatus="completed"))
    call.refresh_from_db()
    assert call.outcome == Call.Outcome.FAILED and call.end_reason.startswith("callback:")
    assert call_metrics().callbacks_kept == 0.0

    # A withheld number cannot be rung back: star keeps the caller waiting.
    hidden = call_sid(51)
    queue_for_billing(hook, hidden, From="anonymous", Caller="anonymous")
    turn = twiml(hook("wait", params(hidden, From="anonymous")))
    assert not any("press star" in (say.text or "") for say in turn.iter("Say"))
    assert twiml(hook("callback", params(hidden, Digits="*"))).find("Redirect") is not None
    assert Call.objects.get(external_id=hidden).status == Call.Status.QUEUED


def test_escalating_a_live_call_brings_the_manager_in_as_a_conference(
    hook: Hook,
    phone: Channel,
    billing_line: User,
    manager: User,
    peer: VoicePeer,
    client: Client,
    django_capture_on_commit_callbacks: Any,
) -> None:
    AgentLine.objects.create(user=manager, number="+14155550777")
    sid, agent_leg = call_sid(60), call_sid(61)
    peer.live_calls.update({sid, agent_leg})
    call = queue_for_billing(hook, sid)
    client.force_login(billing_line)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("web:offer-accept", args=[call.routing_task_id]))
    hook(f"connect?agent={billing_line.pk}", params(sid))
    hook("agent", params(agent_leg, ParentCallSid=sid, CallStatus="in-progress"))
    call.refresh_from_db()
    assert call.status == Call.Status.IN_PROGRESS

    # One click: the agent escalates the conversation, and the manager is dialled into the call.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("web:conversation-escalate", args=[call.conversation_id]),
            {"reason": "Wants a refund above my limit", "manager": str(manager.pk)},
        )
    assert response.status_code == 302
    escalation = Escalation.objects.get(conversation=call.conversation)
    assert escalation.manager == manager and escalation.raised_by == billing_line
    call.refresh_from_db()
    room = f"firstring-call-{call.pk}"
    assert call.conference == room
    # The agent's leg is moved into the conference, and the manager's phone is called into it.
    moved_sid, moved = peer.updates[-1]
    assert moved_sid == agent_leg and moved["Url"] == f"{HOOKS}/conference?call={sid}"
    [(manager_leg, placed)] = peer.placed
    assert placed["To"] == "+14155550777" and placed["From"] == "+12025550100"
    assert urlsplit(placed["Url"]).path == "/channels/phone/twilio/hotline/conference"
    assert parse_qs(urlsplit(placed["Url"]).query) == {"call": [sid], "manager": [str(manager.pk)]}
    escalated = CallEvent.objects.get(call=call, kind="escalated")
    assert escalated.data == {"manager": manager.pk, "escalation": escalation.pk, "conference": room}

    # Twilio: the caller's <Dial> ended (its leg was taken away), so its action joins the caller too.
    joined = twiml(hook("dialed", params(sid, DialCallStatus="completed", DialCallSid=agent_leg)))
    assert joined.find("Dial/Conference").text == room
    agent_joins = twiml(hook(f"conference?call={sid}", params(agent_leg, ParentCallSid=sid)))
    assert agent_joins.find("Dial/Conference").text == room
    manager_joins = twiml(hook(placed["Url"].removeprefix(f"{HOOKS}/"), params(manager_leg)))
    assert manager_joins.find("Say").text.startswith("Joining the call")
    assert manager_joins.find("Dial/Conference").get("endConferenceOnExit") == "false"
    call.refresh_from_db()
    assert call.status == Call.Status.IN_PROGRESS  # still talking, three now

    hook("status", params(sid, CallStatus="completed"))
    call.refresh_from_db()
    assert call.outcome == Call.Outcome.COMPLETED
    assert kinds(call)[-4:] == ["answered", "escalated", "ended", "completed"]
    # A conference that has ended is not joined.
    late = twiml(hook(f"conference?call={sid}", params(manager_leg)))
    assert late.find("Hangup") is not None and late.find("Dial") is None

    # The managers' call log shows it.
    client.force_login(manager)
    page = client.get(reverse("web:phone")).content.decode()
    assert "manager brought in" in page


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("", "mo@example.com has no phone line to ring"),
        ("+14155550666", "Twilio refused to move the call into a conference: HTTP 400 error"),
    ],
    ids=["no line", "number refused"],
)
def test_a_manager_who_cannot_be_rung_is_still_asked_and_the_call_goes_on(
    hook: Hook,
    phone: Channel,
    billing_line: User,
    manager: User,
    peer: VoicePeer,
    client: Client,
    django_capture_on_commit_callbacks: Any,
    line: str,
    why: str,
) -> None:
    if line:
        AgentLine.objects.create(user=manager, number=line)
        peer.unreachable.add(line)
    sid, agent_leg = call_sid(70), call_sid(71)
    peer.live_calls.update({sid, agent_leg})
    call = queue_for_billing(hook, sid)
    client.force_login(billing_line)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("web:offer-accept", args=[call.routing_task_id]))
    hook("agent", params(agent_leg, ParentCallSid=sid, CallStatus="in-progress"))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("web:conversation-escalate", args=[call.conversation_id]),
            {"reason": "Angry", "manager": str(manager.pk)},
        )
    assert Escalation.objects.filter(conversation=call.conversation, manager=manager).exists()
    call.refresh_from_db()
    assert call.conference == "" and peer.placed == []
    assert [updated for updated, _ in peer.updates] == [sid]  # only the bridge: no leg was moved
    assert CallEvent.objects.get(call=call, kind="escalated").data["failed"].startswith(why)
    # The call ends as a plain call: no conference, and it is completed.
    done = twiml(hook("dialed", params(sid, DialCallStatus="completed", DialCallDuration="30")))
    assert done.find("Dial") is None
    call.refresh_from_db()
    assert call.outcome == Call.Outcome.COMPLETED and call.talk_seconds == 30
