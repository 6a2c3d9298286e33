"""The agents' live socket: open screens say the agent is there (presence follows activity), and
changes reach only the screens of agents who may see the conversation."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client
from django.utils import timezone

from firstring.accounts.models import User
from firstring.asgi import application
from firstring.channels.models import Channel
from firstring.conversations.access import conversation_visible, conversations_visible_to, user_team_ids
from firstring.conversations.models import Conversation
from firstring.conversations.services import conversation_assign
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


async def _heard(sessions: list[str], act) -> list[set[int]]:
    """Which conversations' changes each open screen heard of while `act` ran."""
    headers = [(b"origin", b"http://127.0.0.1")]
    screens = []
    for session in sessions:
        cookie = (b"cookie", f"{settings.SESSION_COOKIE_NAME}={session}".encode())
        screen = WebsocketCommunicator(application, "/ws/live/", headers=[*headers, cookie])
        assert (await screen.connect())[0]
        screens.append(screen)
    await database_sync_to_async(act)()
    heard = []
    for screen in screens:
        ids = set()
        while not await screen.receive_nothing(timeout=0.3):
            frame = await screen.receive_json_from()
            if frame["type"] == "conversation.changed":
                ids.add(frame["conversation_id"])
        heard.append(ids)
        await screen.disconnect()
    return heard


def test_changes_reach_only_screens_that_may_see_them(
    agent, billing_agent, manager, billing_team, email_channel, receive
):
    billing = Channel.objects.create(kind="api", slug="billing-api", name="Billing", team=billing_team)
    sessions = [_session(user) for user in (agent, billing_agent, manager)]
    made: dict[str, int] = {}

    def receive_three():
        made["support"] = receive(channel=email_channel, email="a@example.com").conversation.pk
        made["billing"] = receive(channel=billing, email="b@example.com").conversation.pk
        made["teamless"] = receive(email="c@example.com").conversation.pk

    heard = _in_thread(_heard, sessions, receive_three)
    assert heard == [
        {made["support"], made["teamless"]},
        {made["billing"], made["teamless"]},
        set(made.values()),
    ]

    # Assigned across teams (the router may, after a long wait): the assignee hears of it from then on.
    def assign_billing_to_agent():
        conversation = Conversation.objects.get(pk=made["billing"])
        conversation_assign(conversation=conversation, assignee=agent, actor=manager, routed=True)

    heard = _in_thread(_heard, sessions, assign_billing_to_agent)
    assert heard == [{made["billing"]}, {made["billing"]}, {made["billing"]}]


def test_the_live_rule_agrees_with_the_query(
    agent, billing_agent, manager, billing_team, email_channel, receive
):
    billing = Channel.objects.create(kind="api", slug="billing-api", name="Billing", team=billing_team)
    receive(channel=email_channel, email="a@example.com")
    receive(channel=billing, email="b@example.com")
    receive(email="c@example.com")
    assigned = receive(channel=billing, email="d@example.com").conversation
    conversation_assign(conversation=assigned, assignee=agent, actor=manager, routed=True)
    for user in User.objects.filter(pk__in=[agent.pk, billing_agent.pk, manager.pk]):
        team_ids = user_team_ids(user)
        by_rule = {
            c.pk
            for c in Conversation.objects.all()
            if conversation_visible(user, team_ids=team_ids, team_id=c.team_id, assignee_id=c.assignee_id)
        }
        assert by_rule == set(conversations_visible_to(user).values_list("pk", flat=True)), user.email
