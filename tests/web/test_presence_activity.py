"""Presence follows activity: open screens say the agent is there; with none open for a while, away."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client
from django.utils import timezone

from firstring.asgi import application
from firstring.routing.models import AgentState, RoutingEvent
from firstring.routing.services import presence_idle_sweep, presence_set
from firstring.web import consumers

pytestmark = pytest.mark.django_db(transaction=True)


def _session(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


async def _visit(session: str, *frames: str) -> bool:
    headers = [
        (b"cookie", f"{settings.SESSION_COOKIE_NAME}={session}".encode()),
        (b"origin", b"http://127.0.0.1"),
    ]
    communicator = WebsocketCommunicator(application, "/ws/live/", headers=headers)
    connected, _ = await communicator.connect()
    for frame in frames:
        await communicator.send_to(text_data=frame)
    # Still open after whatever the page sent: nothing arrives, and no close either.
    still_open = await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()
    return connected and still_open


def _in_thread(coroutine_function, *args):
    # The server runs the consumer in an event loop of its own; so does this test, in a thread.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(async_to_sync(coroutine_function), *args).result(timeout=20)


def test_an_open_page_marks_the_agent_seen_and_pings_keep_it(agent, monkeypatch):
    presence_set(user=agent, presence=AgentState.Presence.AVAILABLE)
    assert AgentState.objects.get(user=agent).last_seen_at is None
    monkeypatch.setattr(consumers, "PING_THROTTLE_SECONDS", 0)
    assert _in_thread(_visit, _session(agent), "not json", '{"type": "ping"}', '["odd"]')
    seen = AgentState.objects.get(user=agent).last_seen_at
    assert seen is not None and timezone.now() - seen < timedelta(seconds=10)


def test_available_agents_with_no_screen_open_are_set_away(agent, billing_agent, manager, settings):
    settings.FIRSTRING_PRESENCE_IDLE_MINUTES = 5
    now = timezone.now()
    for user, seen in (
        (agent, now - timedelta(minutes=6)),
        (billing_agent, now - timedelta(minutes=1)),
        (manager, None),
    ):
        presence_set(user=user, presence=AgentState.Presence.AVAILABLE)
        AgentState.objects.filter(user=user).update(last_seen_at=seen)
    assert presence_idle_sweep(now=now) == 1
    states = dict(AgentState.objects.values_list("user__email", "presence"))
    # Never tracked (an API client, demo staff) is left as it is.
    assert states == {agent.email: "away", billing_agent.email: "available", manager.email: "available"}
    event = RoutingEvent.objects.get(kind="away", agent=agent)
    assert event.data == {"why": "no screen open for 5 minutes"}
    assert presence_idle_sweep(now=now) == 0
