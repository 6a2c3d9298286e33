"""Phone menus through the API (clear 422s), the menu's steps, Erlang C against known values, the page."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from firstring.accounts.models import User
from firstring.channels.models import Channel
from firstring.voice.erlang import agents_needed, average_speed_of_answer, erlang_c, service_level
from firstring.voice.menu import menu_next, menu_start, menu_validate
from firstring.voice.models import Call
from firstring.voice.selectors import call_metrics
from tests.conftest import make_api_caller
from tests.voice.conftest import MENU


def test_a_manager_sets_a_menu_and_bad_menus_get_a_clear_422(phone: Channel, manager: User) -> None:
    api = make_api_caller(manager)
    menu = {**MENU, "prompt": "Press 1 for billing."}
    response = api("put", "/phone-menus/hotline", json=menu)
    assert response.status_code == 200, response.json()
    assert api("get", "/phone-menus/hotline").json()["definition"]["prompt"] == "Press 1 for billing."
    option = MENU["options"][0]
    bad = {
        "zero taken": {**MENU, "options": [{**option, "key": "0"}]},
        "agent keyword": {**MENU, "options": [{**option, "keywords": ["agent"]}]},
        "twice": {**MENU, "options": [option, {**option, "keywords": []}]},
        "no team": {**MENU, "options": [{**option, "team": "sales"}]},
        "no skill": {**MENU, "options": [{**option, "skills": ["Dancing"]}]},
        "action": {**MENU, "options": [{**option, "action": "dance"}]},
        "answer text": {**MENU, "options": [{"key": "4", "action": "answer"}]},
        "greeting": {**MENU, "greeting": ""},
        "timeout": {**MENU, "timeout_seconds": 0},
        "unknown field": {**MENU, "colour": "blue"},
        "nul": {**MENU, "prompt": "Press\u0000 1"},
        "language code": {**MENU, "languages": [{"key": "1", "code": "english!", "label": "English"}]},
    }
    expected = {
        "zero taken": "0 always goes to a person",
        "agent keyword": "'agent' always goes to a person",
        "twice": "option keys must be unique",
        "no team": "no team with the slug 'sales'",
        "no skill": "no skill named 'Dancing'",
        "action": "options[0].action must be one of",
        "answer text": "options[0].text must be a non-empty text",
        "greeting": "greeting must be a non-empty text",
        "timeout": "timeout_seconds must be a whole number",
        "unknown field": "unknown menu fields: colour",
        "nul": "prompt may not contain NUL characters",
        "language code": "languages[0].code must be a language code",
    }
    for name, definition in bad.items():
        response = api("put", "/phone-menus/hotline", json=definition)
        assert response.status_code == 422, name
        assert expected[name] in response.json()["detail"], (name, response.json())
    assert api("put", "/phone-menus/hotline", json=[1, 2]).status_code == 422
    assert api("get", "/phone-menus/hotline").json()["definition"]["prompt"] == "Press 1 for billing."
    assert api("put", "/phone-menus/nowhere", json=MENU).status_code == 404


def test_agents_cannot_set_menus(phone: Channel, agent: User) -> None:
    assert make_api_caller(agent)("put", "/phone-menus/hotline", json=MENU).status_code == 403


def test_no_menu_state_traps_a_caller() -> None:
    menu = menu_validate(MENU)
    cases = {
        ("9", "9"): "agent",  # nonsense twice in the language question
        ("", ""): "agent",  # silence twice
        ("1", "", "7"): "agent",  # a language, then silence and nonsense
        ("2", "3", "", "1"): "Billing",  # an answer, a miss, then a valid choice resets nothing
        ("1", "3", "2", "0"): "agent",  # 0 after self-service answers
    }
    for presses, queue in cases.items():
        state = menu_start(menu).state
        queued = None
        for digits in presses:
            step = menu_next(menu, state, digits=digits)
            state, queued = step.state, step.queue
        assert queued is not None and queued.label == queue, presses
        assert state["stage"] == "done"


# Published Erlang C tables: 10 erlangs (200 calls an hour of 180 s) waits with probability 0.6821,
# 0.4494, 0.2853, 0.1741, 0.1020 for 11 to 15 agents; 80 % within 20 s needs 14 (13 give 79.6 %).
def test_erlang_c_matches_known_values() -> None:
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    table = [0.6821, 0.4494, 0.2853, 0.1741, 0.1020]
    assert [round(erlang_c(agents, 10.0), 4) for agents in range(11, 16)] == table
    assert service_level(13, 10.0, 180, 20) == pytest.approx(0.7956, abs=1e-3)
    assert service_level(14, 10.0, 180, 20) == pytest.approx(0.8883, abs=1e-3)
    assert average_speed_of_answer(14, 10.0, 180) == pytest.approx(7.84, abs=0.01)
    assert erlang_c(10, 10.0) == 1.0 and math.isinf(average_speed_of_answer(10, 10.0, 180))
    staffing = agents_needed(calls_per_hour=200, aht_seconds=180, target_level=0.8, target_seconds=20)
    assert staffing.agents == 14 and staffing.traffic_erlangs == pytest.approx(10)
    assert staffing.occupancy == pytest.approx(10 / 14)
    assert agents_needed(calls_per_hour=0, aht_seconds=180).agents == 0
    with pytest.raises(ValueError):
        agents_needed(calls_per_hour=10, aht_seconds=0)


def _ended(phone: Channel, receive: Callable[..., Any], n: int, **fields: Any) -> Call:
    conversation = receive(channel=phone, phone=f"+1415555{n:04d}", text="Incoming call").conversation
    now = timezone.now()
    return Call.objects.create(
        conversation=conversation,
        channel=phone,
        provider="twilio",
        external_id=f"CA{n}",
        caller=f"+1415555{n:04d}",
        number_called="+12025550100",
        status=Call.Status.ENDED,
        started_at=now - timedelta(minutes=30),
        queued_at=now - timedelta(minutes=29),
        ended_at=now,
        **fields,
    )


def test_metrics_and_the_managers_page(
    phone: Channel, receive: Callable[..., Any], manager: User, agent: User, client: Client
) -> None:
    _ended(phone, receive, 1, outcome="completed", wait_seconds=10, talk_seconds=200, hold_seconds=20)
    _ended(phone, receive, 2, outcome="completed", wait_seconds=50, talk_seconds=100)
    _ended(phone, receive, 3, outcome="abandoned", wait_seconds=90)
    _ended(phone, receive, 4, outcome="voicemail", wait_seconds=130)
    metrics = call_metrics(target_seconds=20)
    assert metrics.offered == 4 and metrics.answered == 2
    assert metrics.asa_seconds == 30 and metrics.service_level == 0.25 and metrics.abandonment_rate == 0.25
    assert metrics.aht_seconds == 160  # talk 150 + hold 10 on average
    assert metrics.callbacks_kept == 0.0
    assert metrics.staffing is not None and metrics.staffing.agents >= 1
    client.force_login(manager)
    page = client.get("/phone/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "25%" in text and "+14155550001" in text and "Erlang C" in text
    client.force_login(agent)
    assert client.get("/phone/").status_code == 403


def test_the_admin_validates_menus_and_agent_lines(phone: Channel, admin_user: User, agent: User) -> None:
    client = Client()
    client.force_login(admin_user)
    menu_page = f"/admin/voice/phonemenu/{phone.phone_menu.pk}/change/"
    refused = client.post(menu_page, {"channel": phone.pk, "definition": '{"greeting": "Hi"}'})
    assert refused.status_code == 200 and "prompt must be a non-empty text" in refused.content.decode()
    line = client.post("/admin/voice/agentline/add/", {"user": agent.pk, "number": "not a number"})
    assert line.status_code == 200 and "not a phone number" in line.content.decode()
    added = client.post("/admin/voice/agentline/add/", {"user": agent.pk, "number": "+1 415 555 0100"})
    assert added.status_code == 302
    assert agent.phone_line.number == "+14155550100"
