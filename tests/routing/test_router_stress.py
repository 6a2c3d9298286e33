"""Several router processes at once against PostgreSQL, one of them killed mid-run.

The invariants: no task offered or assigned twice, no agent beyond capacity or with two offers
ringing, every assignment made through an offer the agent held, and nothing stuck: once the routers
stop, one more pass offers every waiting task that an available agent has room for.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from firstring.accounts.models import Team, User
from firstring.channels.models import Channel
from firstring.conversations.models import Conversation
from firstring.customers.models import Customer
from firstring.lib.database import current_database_url
from firstring.routing.models import AgentState, RoutingEvent, RoutingTask, TeamRouting
from firstring.routing.services import offers_expire, route_waiting
from firstring.routing.services.queue import task_rank_at
from firstring.routing.services.router import agent_loads

pytestmark = pytest.mark.django_db(transaction=True)

ROUTERS = 4
SECONDS = 4
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the multi-process router test runs in the PostgreSQL pass (row locks, SKIP LOCKED)")


def _floor() -> dict[int, int]:
    """Agents in two teams with small capacities, and a queue of e-mail and chat work; capacities by team."""
    teams = [Team.objects.create(name=f"Team {n}", slug=f"team-{n}") for n in range(2)]
    capacity = {teams[0].pk: 2, teams[1].pk: 3}
    for team in teams:
        limit = capacity[team.pk]
        TeamRouting.objects.create(team=team, capacity={"chat": limit, "email": limit})
    for n in range(12):
        user = User.objects.create_user(email=f"agent{n}@example.com", name=f"Agent {n}")
        teams[n % 2].members.add(user)
        AgentState.objects.create(user=user, presence=AgentState.Presence.AVAILABLE)
    channels = {
        (team.pk, kind): Channel.objects.create(kind=kind, slug=f"{kind}-{team.pk}", name=kind, team=team)
        for team in teams
        for kind in ("email", "chat")
    }
    now = timezone.now()
    for n in range(150):
        team = teams[n % 2]
        conversation = Conversation.objects.create(
            channel=channels[(team.pk, ("email", "chat")[n % 3 == 0])],
            customer=Customer.objects.create(name=f"Customer {n}"),
            team=team,
            priority=1 + n % 4,
        )
        RoutingTask.objects.create(
            conversation=conversation,
            channel_kind=conversation.channel.kind,
            team=team,
            enqueued_at=now,
            rank_at=task_rank_at(conversation, now),
        )
    return capacity


def test_router_processes_at_once_keep_every_promise(settings):
    capacity = _floor()
    env = {
        **os.environ,
        "DATABASE_URL": current_database_url(),
        "FIRSTRING_ROUTING_OFFER_SECONDS": "1",
        "PYTHONPATH": str(ROOT),
    }
    routers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.routing.stress_router",
                "--seconds",
                str(SECONDS),
                "--seed",
                str(n),
            ],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for n in range(ROUTERS)
    ]
    time.sleep(SECONDS / 2)
    routers[0].send_signal(signal.SIGKILL)  # killed mid-decision: its open transaction rolls back
    outputs = []
    for router in routers:
        output, _ = router.communicate(timeout=SECONDS * 10)
        outputs.append(output.decode(errors="replace"))
    for router, output in zip(routers[1:], outputs[1:], strict=True):
        assert router.returncode == 0, output[-3000:]

    # Work was done (how much depends on the machine's load: the invariants below are the test).
    assert RoutingEvent.objects.filter(kind="accepted").exists()
    # One live task per conversation (the constraint), and every assignment went through an accepted offer.
    assigned = Conversation.objects.filter(assignee__isnull=False)
    for conversation in assigned:
        accepted = RoutingEvent.objects.filter(task__conversation=conversation, kind="accepted").last()
        assert accepted is not None and accepted.agent_id == conversation.assignee_id
    # No agent ever over capacity, nor with two offers ringing.
    loads = agent_loads(AgentState.objects.values_list("user_id", flat=True))
    members = {user.pk: user.teams.get().pk for user in User.objects.prefetch_related("teams")}
    for user_id, load in loads.items():
        assert sum(load.ringing.values()) <= 1, user_id
        for kind, held in load.held.items():
            assert held <= capacity[members[user_id]], (user_id, kind, held)
    ringing = Counter(RoutingTask.objects.filter(status="offered").values_list("offered_to_id", flat=True))
    assert all(n == 1 for n in ringing.values())

    # Nothing stuck: let the offers ring out, route once more, and every waiting task that an available
    # agent of its team has room for gets offered.
    settings.FIRSTRING_ROUTING_OFFER_SECONDS = 30
    offers_expire(now=timezone.now() + timezone.timedelta(seconds=5))
    AgentState.objects.update(presence=AgentState.Presence.AVAILABLE)
    route_waiting(max_offers=1000, scan=1000)
    loads = agent_loads(AgentState.objects.values_list("user_id", flat=True))
    for task in RoutingTask.objects.filter(status="waiting").select_related("team"):
        free = [
            user_id
            for user_id, team_id in members.items()
            if team_id == task.team_id
            and not sum(loads[user_id].ringing.values())
            and loads[user_id].held[task.channel_kind] < capacity[team_id]
        ]
        assert free == [], f"task {task.pk} waits while {free} could take it"
