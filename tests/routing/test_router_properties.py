"""Properties of the router under any sequence of events, and under concurrent routers."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from firstring.accounts.models import Team, User
from firstring.channels.models import Channel
from firstring.conversations.models import Conversation
from firstring.conversations.services import (
    Inbound,
    conversation_assign,
    conversation_set_status,
    receive_message,
)
from firstring.customers.identities import IdentityClaim
from firstring.lib.errors import Conflict
from firstring.routing.models import AgentState, RoutingTask
from firstring.routing.services import (
    offer_accept,
    offer_decline,
    offers_expire,
    presence_set,
    route_waiting,
    task_enqueue,
    tasks_for_messages,
    tasks_sweep,
)
from firstring.routing.services.router import DEFAULT_CAPACITY, agent_loads, has_room

KINDS = ("email", "chat", "phone")
AGENTS = 3

operations = st.lists(
    st.one_of(
        st.tuples(st.just("message"), st.integers(0, 7), st.sampled_from(KINDS)),
        st.tuples(st.just("route")),
        st.tuples(st.just("accept"), st.integers(0, AGENTS - 1)),
        st.tuples(st.just("decline"), st.integers(0, AGENTS - 1)),
        st.tuples(st.just("expire")),
        st.tuples(st.just("sweep")),
        st.tuples(st.just("unassign"), st.integers(0, 20)),
        st.tuples(st.just("presence"), st.integers(0, AGENTS - 1), st.sampled_from(["available", "away"])),
        st.tuples(st.just("resolve"), st.integers(0, 20)),
    ),
    max_size=40,
)


class RouterProperties(TestCase):
    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(operations)
    def test_no_agent_over_capacity_no_task_twice_nothing_left_waiting_beside_a_free_agent(self, ops):
        team = Team.objects.create(name="Support", slug="support")
        channels = {
            kind: Channel.objects.create(kind=kind, slug=kind, name=kind, team=team) for kind in KINDS
        }
        agents = []
        for n in range(AGENTS):
            user = User.objects.create_user(email=f"agent{n}@example.com", name=f"agent{n}")
            team.members.add(user)
            presence_set(user=user, presence="available")
            agents.append(user)

        for op in ops:
            if op[0] == "message":
                result = receive_message(
                    Inbound(
                        channel=channels[op[2]],
                        claims=[IdentityClaim("email", f"c{op[1]}@example.com")],
                        text="hello",
                    )
                )
                tasks_for_messages([result.message.pk])
            elif op[0] == "route":
                route_waiting()
                self._nothing_waits_beside_a_free_agent()
            elif op[0] in ("accept", "decline"):
                task = RoutingTask.objects.filter(offered_to=agents[op[1]], status="offered").first()
                if task is not None:
                    (offer_accept if op[0] == "accept" else offer_decline)(task=task, agent=agents[op[1]])
            elif op[0] == "expire":
                offers_expire(now=timezone.now() + timedelta(hours=1))
            elif op[0] == "sweep":
                tasks_sweep()
            elif op[0] == "unassign":
                conversation = Conversation.objects.order_by("pk")[op[1] : op[1] + 1].first()
                if conversation is not None and conversation.assignee is not None:
                    conversation_assign(conversation=conversation, assignee=None, actor=None)
            elif op[0] == "presence":
                presence_set(user=agents[op[1]], presence=op[2])
            elif op[0] == "resolve":
                conversation = Conversation.objects.order_by("pk")[op[1] : op[1] + 1].first()
                if conversation is not None:
                    conversation_set_status(conversation=conversation, status="resolved", actor=None)
            self._invariants(agents)

    def _invariants(self, agents: list[User]) -> None:
        live = RoutingTask.objects.filter(status__in=["waiting", "offered"])
        conversation_ids = list(live.values_list("conversation_id", flat=True))
        assert len(conversation_ids) == len(set(conversation_ids)), "a conversation has two live tasks"
        loads = agent_loads(a.pk for a in agents)
        for agent in agents:
            load = loads[agent.pk]
            for kind in KINDS:
                assert load.held[kind] <= DEFAULT_CAPACITY.get(kind, DEFAULT_CAPACITY["default"]), (
                    agent,
                    load,
                )
            ringing = RoutingTask.objects.filter(
                offered_to=agent, status="offered", channel_kind="phone"
            ).first()
            if ringing is not None:
                # While a call rings nothing new is offered: everything else was offered before it.
                offered_after_call = RoutingTask.objects.filter(
                    offered_to=agent, status="offered", offered_at__gt=ringing.offered_at
                ).exclude(channel_kind="phone")
                assert not offered_after_call.exists()
        latest: dict[int, RoutingTask] = {}
        for task in RoutingTask.objects.select_related("conversation").order_by("pk"):
            latest[task.conversation_id] = task
        for task in latest.values():
            if task.status == "assigned":
                # Assigned by the router, unless an agent unassigned it since.
                assert task.conversation.assignee_id in (task.offered_to_id, None)

    def _nothing_waits_beside_a_free_agent(self) -> None:
        available = list(AgentState.objects.filter(presence="available").values_list("user_id", flat=True))
        loads = agent_loads(available)
        for task in RoutingTask.objects.filter(status="waiting").select_related("conversation"):
            if task.conversation.assignee_id is not None or task.conversation.status != "open":
                continue
            limit = DEFAULT_CAPACITY.get(task.channel_kind, DEFAULT_CAPACITY["default"])
            free = [a for a in available if has_room(loads[a], task.channel_kind, limit)]
            assert not free, f"task {task.pk} waits while agents {free} have room"


@pytest.mark.django_db(transaction=True)
def test_routers_at_once_never_offer_a_task_twice_or_an_agent_beyond_capacity(support_team):
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"] in ("", ":memory:"):
        pytest.skip("in-memory SQLite has no concurrent connections")
    chat = Channel.objects.create(kind="chat", slug="chat", name="Chat", team=support_team)
    agents = []
    for n in range(6):
        user = User.objects.create_user(email=f"a{n}@example.com", name=f"a{n}")
        support_team.members.add(user)
        presence_set(user=user, presence="available")
        agents.append(user)
    for n in range(40):
        result = receive_message(Inbound(channel=chat, claims=[IdentityClaim("visitor", f"v{n}")], text="hi"))
        task_enqueue(conversation=result.conversation)

    routers = 4
    barrier = threading.Barrier(routers)
    errors: list[BaseException] = []
    offered: list[int] = []

    def run() -> None:
        try:
            barrier.wait()
            for _ in range(5):
                offered.extend(o.task.pk for o in route_waiting(max_offers=7))
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(routers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert len(offered) == len(set(offered)), "a task was offered by two routers"
    # Every agent has one offer ringing, nobody two.
    assert len(offered) == len(agents)
    loads = agent_loads(a.pk for a in agents)
    assert all(loads[a.pk].ringing["chat"] == 1 for a in agents)
    assert RoutingTask.objects.filter(status="offered").count() == len(agents)
    with pytest.raises(Conflict):
        offer_accept(task=RoutingTask.objects.filter(status="waiting").first(), agent=agents[0])
