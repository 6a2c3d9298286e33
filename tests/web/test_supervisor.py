"""The supervisors' live view: queues, agents and their load, service level now, open escalations."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from firstring.conversations.services import conversation_assign, reply_send
from firstring.escalations.services import escalation_raise
from firstring.routing.models import AgentState, RoutingTask
from firstring.routing.selectors import supervisor_snapshot
from firstring.routing.services import presence_set, sla_watch, task_enqueue
from firstring.sla.models import SlaPolicy
from tests.web.conftest import HTMX

pytestmark = pytest.mark.django_db


@pytest.fixture
def floor(receive, email_channel, agent, manager):
    """Two customers waiting, one answered in time, one missed, one conversation held and escalated."""
    SlaPolicy.objects.create(name="E-mail", channel_kind="email", first_response_minutes=60)
    presence_set(user=agent, presence=AgentState.Presence.AVAILABLE)
    hour_and_a_half_ago = timezone.now() - timedelta(minutes=90)
    missed = receive(
        email="late@example.com", channel=email_channel, received_at=hour_and_a_half_ago
    ).conversation
    sla_watch()
    for email in ("w1@example.com", "w2@example.com"):
        conversation = receive(email=email, channel=email_channel, name="<b>Wanda</b>").conversation
        task_enqueue(conversation=conversation)
    RoutingTask.objects.filter(conversation__customer__identities__value="w1@example.com").update(
        enqueued_at=timezone.now() - timedelta(minutes=7)
    )
    answered = receive(email="fast@example.com", channel=email_channel).conversation
    conversation_assign(conversation=answered, assignee=agent, actor=agent)
    reply_send(conversation=answered, author=agent, text="Here you go")
    escalation_raise(conversation=missed, raised_by=agent, reason="Late and angry")
    return missed


def test_the_snapshot_counts_what_the_floor_holds(floor, agent):
    snapshot = supervisor_snapshot()
    (queue,) = snapshot.queues
    assert (queue.team, queue.channel_kind, queue.waiting, queue.ringing) == ("Support", "email", 2, 0)
    assert 7 * 60 <= queue.longest_wait_seconds < 8 * 60
    rows = {row.user.email: row for row in snapshot.agents}
    assert rows[agent.email].presence == "available" and rows[agent.email].held == {"email": 1}
    # One first response in time, one missed; the waiting ones are not settled yet.
    assert (snapshot.first_response_met, snapshot.first_response_missed) == (1, 1)
    assert snapshot.service_level == 50.0


def test_managers_see_the_live_view_and_agents_do_not(floor, client_for, agent, manager):
    assert client_for(agent).get("/supervisor/").status_code == 403
    page = client_for(manager).get("/supervisor/").content.decode()
    assert "50.0 %" in page and "7 min" in page
    assert f"/escalations/{floor.escalations.get().pk}/" in page
    board = client_for(manager).get("/supervisor/", **HTMX).content.decode()
    assert board.lstrip().startswith('<div id="board"') and "<html" not in board
