"""Calls through the self-hosted SIP endpoint, driven by sipp on loopback: the endpoint runs in a thread
of the test process on the test database, sipp plays the caller (`caller_keys.xml`), the agent's
phone (`sipp -sn uas`) and the trunk a callback dials out through (`trunk_customer.xml`). Nothing of
ours is mocked."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client

from firstring.accounts.models import Skill, Team, User, UserSkill
from firstring.channels.models import Channel
from firstring.conversations.models import Message
from firstring.escalations.services import escalation_raise
from firstring.lib.net import free_udp_port
from firstring.lib.speech import UNRECOGNISED
from firstring.routing.models import RoutingTask
from firstring.routing.services import offer_accept, presence_set, route_waiting
from firstring.surveys.models import SurveyAnswer, SurveyRequest
from firstring.voice.models import AgentLine, Call
from firstring.voice.phone.sip.endpoint import Endpoint
from firstring.voice.selectors import call_metrics
from firstring.voice.services import (
    call_bridge,
    call_callback_request,
    call_incoming,
    call_queue_for_agent,
    phone_menu_set,
)
from tests.voice.conftest import MENU
from tests.voice.sip_peers import (
    SCENARIOS,
    finished,
    require_sipp,
    require_speech,
    rtp_pcap,
    silence,
    sip_endpoint,
    sipp,
    spoken,
)

NUMBER = "+12025550100"


@pytest.fixture
def sip_phone(
    request: pytest.FixtureRequest,
    transactional_db: None,
    settings: Any,
    tmp_path_factory: Any,
    support_team: Team,
    billing_team: Team,
) -> Channel:
    """The number the endpoint answers; a test may add to its config by indirect parametrisation."""
    settings.VAR_DIR = tmp_path_factory.getbasetemp() / "sip-var"  # prompts rendered once per session
    Skill.objects.create(kind=Skill.Kind.TOPIC, name="Invoices")
    config = {"number": NUMBER, "ring_seconds": 5, **getattr(request, "param", {})}
    channel = Channel.objects.create(
        kind="phone", slug="sip-line", name="SIP line", team=support_team, config=config
    )
    phone_menu_set(channel=channel, definition=MENU)
    return channel


@pytest.fixture
def endpoint(sip_phone: Channel) -> Iterator[Endpoint]:
    require_sipp()
    with sip_endpoint() as running:
        yield running


def until(condition: Callable[[], Any], seconds: float = 20) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


def caller(endpoint: Endpoint, cwd: Path, *, digit: str, hold_ms: int) -> Any:
    host, port = endpoint.server.address
    return sipp(
        require_sipp(),
        f"{host}:{port}",
        "-sf", str(SCENARIOS / "caller_keys.xml"),
        "-s", NUMBER,
        "-key", "digit", digit,
        "-d", str(hold_ms),
        "-m", "1",
        cwd=cwd,
    )  # fmt: skip


def speaker(endpoint: Endpoint, cwd: Path, parts: list[bytes | str], *, hold_ms: int) -> Any:
    """A caller whose RTP is `parts` (speech as mu-law, keys as str), on the line for `hold_ms`."""
    require_speech()
    rtp_pcap(cwd / "said.pcap", parts)
    host, port = endpoint.server.address
    return sipp(
        require_sipp(),
        f"{host}:{port}",
        "-sf", str(SCENARIOS / "caller_says.xml"),
        "-s", NUMBER,
        "-d", str(hold_ms),
        "-m", "1",
        cwd=cwd,
    )  # fmt: skip


def kinds(call: Call) -> list[str]:
    return list(call.events.values_list("kind", flat=True))


def test_a_caller_presses_keys_waits_and_is_bridged_to_the_agents_sip_phone(
    endpoint: Endpoint, billing_agent: User, tmp_path: Path
) -> None:
    UserSkill.objects.create(user=billing_agent, skill=Skill.objects.get(name="Invoices"), level=2)
    agent_port = free_udp_port()
    AgentLine.objects.create(user=billing_agent, sip_uri=f"sip:bo@127.0.0.1:{agent_port}")
    phone = sipp(require_sipp(), "-sn", "uas", "-m", "1", cwd=tmp_path, port=agent_port)
    customer = caller(endpoint, tmp_path, digit="1", hold_ms=7000)

    call = until(lambda: Call.objects.filter(status=Call.Status.QUEUED).first())
    assert call.provider == "sip" and call.caller == "+14155550123" and call.number_called == NUMBER
    assert [step["chose"] for step in call.menu_path] == ["es", "Billing"]
    assert call.language == "es"
    presence_set(user=billing_agent, presence="available")
    route_waiting()
    task = RoutingTask.objects.get(pk=call.routing_task_id)
    assert task.offered_to_id == billing_agent.pk
    offer_accept(task=task, agent=billing_agent)

    until(lambda: Call.objects.filter(pk=call.pk, status=Call.Status.IN_PROGRESS).exists())
    finished(customer, tmp_path)
    finished(phone, tmp_path)
    call = until(lambda: Call.objects.filter(pk=call.pk, status=Call.Status.ENDED).first())
    assert call.outcome == Call.Outcome.COMPLETED and call.agent == billing_agent
    assert kinds(call) == [
        "incoming", "menu_input", "menu_input", "queued", "offered", "transferred", "answered", "ended",
        "completed",
    ]  # fmt: skip
    assert call.conversation.channel.slug == "sip-line"


def test_an_escalation_rings_the_manager_into_a_three_party_call(
    endpoint: Endpoint, billing_agent: User, manager: User, tmp_path: Path
) -> None:
    UserSkill.objects.create(user=billing_agent, skill=Skill.objects.get(name="Invoices"), level=2)
    agent_port, manager_port = free_udp_port(), free_udp_port()
    AgentLine.objects.create(user=billing_agent, sip_uri=f"sip:bo@127.0.0.1:{agent_port}")
    AgentLine.objects.create(user=manager, sip_uri=f"sip:boss@127.0.0.1:{manager_port}")
    phones = [
        sipp(require_sipp(), "-sn", "uas", "-m", "1", cwd=tmp_path, port=port)
        for port in (agent_port, manager_port)
    ]
    customer = caller(endpoint, tmp_path, digit="1", hold_ms=9000)
    call = until(lambda: Call.objects.filter(status=Call.Status.QUEUED).first())
    presence_set(user=billing_agent, presence="available")
    route_waiting()
    offer_accept(task=RoutingTask.objects.get(pk=call.routing_task_id), agent=billing_agent)
    until(lambda: Call.objects.filter(pk=call.pk, status=Call.Status.IN_PROGRESS).exists())

    # The agent's one-click escalation on the call's conversation.
    escalation_raise(
        conversation=call.conversation, raised_by=billing_agent, reason="wants a refund", manager=manager
    )
    talking = until(lambda: endpoint.talking.get(call.external_id))
    until(lambda: [person.role for person in talking.staff] == ["agent", "manager"])
    assert talking.mixer is not None  # three parties: each hears the other two mixed

    finished(customer, tmp_path)
    for phone in phones:
        finished(phone, tmp_path)  # the caller's hang-up hung up both our legs
    call = until(lambda: Call.objects.filter(pk=call.pk, status=Call.Status.ENDED).first())
    assert call.outcome == Call.Outcome.COMPLETED
    escalated = call.events.get(kind="escalated").data
    assert escalated["manager"] == manager.pk and "failed" not in escalated


def test_the_caller_rates_the_call_with_a_key_after_the_agent_hangs_up(
    endpoint: Endpoint, billing_agent: User, tmp_path: Path
) -> None:
    UserSkill.objects.create(user=billing_agent, skill=Skill.objects.get(name="Invoices"), level=2)
    agent_port = free_udp_port()
    AgentLine.objects.create(user=billing_agent, sip_uri=f"sip:bo@127.0.0.1:{agent_port}")
    scenario = str(SCENARIOS / "agent_hangs_up.xml")
    phone = sipp(require_sipp(), "-sf", scenario, "-d", "1000", "-m", "1", cwd=tmp_path, port=agent_port)
    host, port = endpoint.server.address
    customer = sipp(
        require_sipp(),
        f"{host}:{port}",
        "-sf", str(SCENARIOS / "caller_survey.xml"),
        "-s", NUMBER,
        "-key", "digit", "1",
        "-key", "survey", "4",
        "-d", "9000",  # the agent answers at about 4 s and hangs up a second later
        "-m", "1",
        cwd=tmp_path,
    )  # fmt: skip
    call = until(lambda: Call.objects.filter(status=Call.Status.QUEUED).first())
    presence_set(user=billing_agent, presence="available")
    route_waiting()
    offer_accept(task=RoutingTask.objects.get(pk=call.routing_task_id), agent=billing_agent)

    finished(phone, tmp_path)
    finished(customer, tmp_path)  # it pressed 4 and we hung up
    call.refresh_from_db()
    assert call.outcome == Call.Outcome.COMPLETED and call.end_reason == "completed"
    answer = SurveyAnswer.objects.get()
    assert (answer.score, answer.agent) == (4, billing_agent)
    assert SurveyRequest.objects.get().conversation_id == call.conversation_id


def test_an_agent_whose_sip_phone_does_not_answer_puts_the_caller_back_in_line(
    endpoint: Endpoint, billing_agent: User, tmp_path: Path
) -> None:
    UserSkill.objects.create(user=billing_agent, skill=Skill.objects.get(name="Invoices"), level=2)
    AgentLine.objects.create(user=billing_agent, sip_uri=f"sip:bo@127.0.0.1:{free_udp_port()}")  # nobody
    customer = caller(endpoint, tmp_path, digit="1", hold_ms=12_000)
    call = until(lambda: Call.objects.filter(status=Call.Status.QUEUED).first())
    presence_set(user=billing_agent, presence="available")
    route_waiting()
    offer_accept(task=RoutingTask.objects.get(pk=call.routing_task_id), agent=billing_agent)

    requeued = until(lambda: call.events.filter(kind="queued", data__again=True).first(), seconds=15)
    assert "no answer within 5 s" in requeued.data["reason"]
    call.refresh_from_db()
    assert call.status == Call.Status.QUEUED and call.agent is None
    finished(customer, tmp_path)
    call = until(lambda: Call.objects.filter(pk=call.pk, status=Call.Status.ENDED).first())
    assert call.outcome == Call.Outcome.ABANDONED


@pytest.mark.parametrize("sip_phone", [{"voicemail_after_seconds": 1}], indirect=True)
def test_a_caller_who_waits_too_long_leaves_a_voicemail_that_staff_can_play(
    endpoint: Endpoint, tmp_path: Path, agent: User, client: Client, run_tasks: Callable[[], int]
) -> None:
    customer = caller(endpoint, tmp_path, digit="0", hold_ms=9000)
    finished(customer, tmp_path)
    # The recording is kept as the caller hangs up; its message follows once the worker has listened to
    # it: a silent caller's says so.
    until(lambda: Call.objects.filter(recording_url__endswith=".wav").exists())
    run_tasks()
    message = Message.objects.get(text="Voicemail (no transcript).")
    call = until(
        lambda: Call.objects.filter(status=Call.Status.ENDED, recording_url__endswith=".wav").first()
    )
    assert call.outcome == Call.Outcome.VOICEMAIL and message.conversation_id == call.conversation_id
    assert call.events.get(kind="voicemail").data == {"reason": "waited too long"}

    path = urlsplit(call.recording_url).path
    assert path == f"/phone/calls/{call.pk}/recording.wav"
    assert client.get(path).status_code == 302  # to the sign-in page
    client.force_login(agent)
    recording = client.get(path)
    assert recording.status_code == 200 and recording["Content-Type"] == "audio/wav"
    assert recording.content[:4] == b"RIFF" and recording.content[8:12] == b"WAVE"
    assert client.get(f"/phone/calls/{call.pk + 1}/recording.wav").status_code == 404


def test_a_caller_who_hangs_up_in_the_queue_has_abandoned_with_their_wait(
    endpoint: Endpoint, tmp_path: Path
) -> None:
    customer = caller(endpoint, tmp_path, digit="0", hold_ms=2500)
    finished(customer, tmp_path)
    call = until(lambda: Call.objects.filter(status=Call.Status.ENDED).first())
    assert call.outcome == Call.Outcome.ABANDONED and call.end_reason == "caller hung up in the queue"
    assert call.menu_path[-1]["chose"] == "agent"
    assert 2 <= call.wait_seconds <= 4
    abandoned = call.events.get(kind="abandoned")
    assert abandoned.data == {"wait_seconds": call.wait_seconds}
    assert RoutingTask.objects.get(pk=call.routing_task_id).status == RoutingTask.Status.CANCELLED


# Spoken menu keywords (pocketsphinx, restricted to the words the menu can take) and voicemail
# transcripts: the callers' voices are made by espeak-ng and sox, played by sipp as RTP.


def test_a_caller_who_says_billing_is_queued_for_the_billing_skill(
    endpoint: Endpoint, tmp_path: Path
) -> None:
    # English by key, then "billing" said over the main prompt (a keyword cuts it short).
    parts = [silence(1000), "1", silence(1500), spoken("billing"), silence(1500)]
    customer = speaker(endpoint, tmp_path, parts, hold_ms=6000)
    call = until(lambda: Call.objects.filter(status=Call.Status.QUEUED).first())
    assert call.menu_path == [
        {"stage": "language", "input": "1", "chose": "en"},
        {"stage": "menu", "input": "billing", "chose": "Billing"},
    ]
    said = call.events.filter(kind="menu_input").last()
    assert said is not None and said.data["speech"] == "billing" and not said.data["timeout"]
    task = RoutingTask.objects.get(pk=call.routing_task_id)
    assert "Invoices" in [need["name"] for need in task.needs]
    assert call.conversation.team.slug == "billing"
    finished(customer, tmp_path)


def test_a_caller_who_says_agent_reaches_a_person(endpoint: Endpoint, tmp_path: Path) -> None:
    # At the language question already: a person is a word away at every step.
    customer = speaker(endpoint, tmp_path, [silence(2500), spoken("agent"), silence(1500)], hold_ms=6000)
    call = until(lambda: Call.objects.filter(status=Call.Status.QUEUED).first())
    assert call.menu_path == [{"stage": "menu", "input": "agent", "chose": "agent"}]
    assert call.queue == "agent" and call.conversation.team.slug == "support"
    finished(customer, tmp_path)
    call = until(lambda: Call.objects.filter(pk=call.pk, status=Call.Status.ENDED).first())
    assert call.outcome == Call.Outcome.ABANDONED


def test_a_caller_who_says_something_else_hears_the_menu_again(endpoint: Endpoint, tmp_path: Path) -> None:
    # After the main prompt (about 6 s, a second after the key), within the 5 s the menu waits.
    nonsense = spoken("purple elephants dancing in the rain")
    customer = speaker(
        endpoint, tmp_path, [silence(1000), "1", silence(8000), nonsense, silence(1500)], hold_ms=14_000
    )
    call = until(lambda: next((c for c in Call.objects.all() if len(c.menu_path) == 2), None), seconds=30)
    assert call.menu_path[-1] == {"stage": "menu", "input": UNRECOGNISED, "chose": ""}
    assert call.status == Call.Status.MENU and call.menu_state["misses"] == 1  # asked again, not queued
    finished(customer, tmp_path)
    call.refresh_from_db()
    assert call.routing_task is None


@pytest.mark.parametrize("sip_phone", [{"voicemail_after_seconds": 1}], indirect=True)
def test_a_voicemail_left_over_sip_gets_its_words(
    endpoint: Endpoint, tmp_path: Path, run_tasks: Callable[[], int]
) -> None:
    # 0, a second in the queue, "Nobody can take your call..." and the tone (about 7 s), then the message.
    message = spoken("I would like a refund for my order. Please call me back tomorrow morning.")
    parts = [silence(1000), "0", silence(8000), message, silence(1500)]
    customer = speaker(endpoint, tmp_path, parts, hold_ms=9500 + len(message) // 8 + 2000)
    finished(customer, tmp_path, timeout=90)
    until(lambda: Call.objects.filter(recording_url__endswith=".wav").exists())
    run_tasks()
    voicemail = Message.objects.get(text__startswith="Voicemail")
    call = Call.objects.get()
    assert call.outcome == Call.Outcome.VOICEMAIL and voicemail.conversation_id == call.conversation_id
    heard = set(call.transcript.split())
    assert {"refund", "order"} <= heard, call.transcript
    assert voicemail.text == f"Voicemail: {call.transcript}"


# Callbacks: * in the queue, then the agent's SIP phone rings, then the customer through the trunk.


@pytest.fixture
def trunk_port(settings: Any) -> int:
    """A trunk on loopback for outbound calls: a sipp playing the customer listens there, or nobody."""
    port = free_udp_port()
    settings.FIRSTRING_SIP_TRUNK = f"sip:127.0.0.1:{port}"
    return port


@pytest.fixture
def trunk_endpoint(trunk_port: int, sip_phone: Channel) -> Iterator[Endpoint]:
    require_sipp()
    with sip_endpoint() as running:
        yield running


def called_back(endpoint: Endpoint, cwd: Path, agent: User) -> Call:
    """A caller presses 0 (a person), waits, presses * and is hung up on; then `agent` accepts the task."""
    host, port = endpoint.server.address
    customer = sipp(
        require_sipp(),
        f"{host}:{port}",
        "-sf", str(SCENARIOS / "caller_callback.xml"),
        "-s", NUMBER,
        "-key", "digit", "0",
        "-d", "2000",
        "-m", "1",
        cwd=cwd,
    )  # fmt: skip
    finished(customer, cwd)  # it got our BYE after the confirmation
    call = Call.objects.get()
    assert call.status == Call.Status.CALLBACK and call.callback_requested_at is not None
    task = RoutingTask.objects.get(pk=call.routing_task_id)
    assert task.status == RoutingTask.Status.WAITING  # its place is kept
    presence_set(user=agent, presence="available")
    route_waiting()
    task.refresh_from_db()
    assert task.offered_to_id == agent.pk
    offer_accept(task=task, agent=agent)
    return call


def test_a_caller_who_presses_star_is_called_back_agent_first_then_through_the_trunk(
    trunk_endpoint: Endpoint, trunk_port: int, agent: User, tmp_path: Path
) -> None:
    agent_port = free_udp_port()
    AgentLine.objects.create(user=agent, sip_uri=f"sip:ann@127.0.0.1:{agent_port}")
    scenario = str(SCENARIOS / "agent_hangs_up.xml")
    phone = sipp(require_sipp(), "-sf", scenario, "-d", "3000", "-m", "1", cwd=tmp_path, port=agent_port)
    trunk = sipp(
        require_sipp(), "-sf", str(SCENARIOS / "trunk_customer.xml"), "-m", "1", cwd=tmp_path, port=trunk_port
    )
    call = called_back(trunk_endpoint, tmp_path, agent)

    finished(phone, tmp_path)  # the agent answered, talked and hung up
    finished(trunk, tmp_path)  # the customer was called with their number, answered, and got our BYE
    call = until(lambda: Call.objects.filter(pk=call.pk, status=Call.Status.ENDED).first())
    assert call.outcome == Call.Outcome.COMPLETED and call.agent == agent
    assert kinds(call) == [
        "incoming", "menu_input", "menu_input", "queued", "callback", "offered", "transferred",
        "transferred", "answered", "ended", "completed",
    ]  # fmt: skip
    to_agent, to_caller = (event.data for event in call.events.filter(kind="transferred").order_by("pk"))
    assert to_agent["callback"] is True and to_agent["agent"] == agent.pk
    assert to_caller == {"to": "caller", "number": "+14155550123"}
    answered = call.events.get(kind="answered")
    assert answered.data["leg"] and answered.data["leg"] != to_agent["leg"]  # the customer's leg
    assert call.talk_seconds >= 1
    assert call_metrics().callbacks_kept == 1.0
    assert not trunk_endpoint.callbacks and not trunk_endpoint.calls


def test_a_customer_who_does_not_answer_the_callback_leaves_it_not_kept(
    trunk_endpoint: Endpoint, agent: User, tmp_path: Path
) -> None:
    agent_port = free_udp_port()
    AgentLine.objects.create(user=agent, sip_uri=f"sip:ann@127.0.0.1:{agent_port}")
    phone = sipp(require_sipp(), "-sn", "uas", "-m", "1", cwd=tmp_path, port=agent_port)
    call = called_back(trunk_endpoint, tmp_path, agent)  # nobody answers at the trunk

    finished(phone, tmp_path)  # the agent's leg was hung up by our BYE
    call = until(lambda: Call.objects.filter(pk=call.pk, status=Call.Status.ENDED).first(), seconds=20)
    assert call.outcome == Call.Outcome.FAILED
    assert call.end_reason == "callback: no answer within 5 s"
    assert kinds(call)[-3:] == ["transferred", "transferred", "ended"]
    assert call_metrics().callbacks_kept == 0.0
    until(lambda: not trunk_endpoint.callbacks and not trunk_endpoint.calls)


def test_without_a_trunk_the_sip_gateway_refuses_a_callback_with_the_reason(
    sip_phone: Channel, agent: User
) -> None:
    call, _ = call_incoming(
        channel=sip_phone, provider="sip", external_id="sip:x1", caller="+14155550123", called=NUMBER
    )
    call = call_callback_request(call=call_queue_for_agent(call=call))
    assert call.status == Call.Status.CALLBACK
    AgentLine.objects.create(user=agent, sip_uri="sip:ann@127.0.0.1:5999")
    call = call_bridge(call=call, agent=agent)
    requeued = call.events.get(kind="queued", data__again=True)
    assert requeued.data["reason"] == (
        "callbacks over the SIP endpoint need a trunk for outbound calls (FIRSTRING_SIP_TRUNK)"
    )
    assert call.status == Call.Status.CALLBACK and call.agent is None
