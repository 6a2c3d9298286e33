"""The agent's routing bar: presence, offers ringing, accept and decline, and what others may not touch."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from firstring.conversations.models import Conversation
from firstring.routing.models import AgentState, RoutingTask
from firstring.routing.services import presence_set, route_waiting, task_enqueue
from tests.web.conftest import HTMX

pytestmark = pytest.mark.django_db


@pytest.fixture
def offered(receive, email_channel, agent):
    """A conversation offered to Ana (the agent)."""
    presence_set(user=agent, presence="available")
    conversation = receive(
        email="zed@example.com", name="<b>Zed</b>", channel=email_channel, text="<script>x()</script>Help"
    ).conversation
    task = task_enqueue(conversation=conversation)
    route_waiting()
    task.refresh_from_db()
    assert task.offered_to == agent
    return task


def test_the_bar_shows_presence_and_the_offers_ringing_escaped(client_for, agent, offered):
    response = client_for(agent).get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="available" selected' in html
    assert f'data-task-id="{offered.pk}"' in html
    assert "<script>x()" not in html and "&lt;script&gt;x()" in html
    assert "<b>Zed" not in html and "&lt;b&gt;Zed" in html


def test_the_offers_alone_are_refreshed_when_they_change(client_for, agent, offered):
    html = client_for(agent).get("/routing/offers/", **HTMX).content.decode()
    assert html.lstrip().startswith('<div class="offers" id="offers"')
    assert f'data-task-id="{offered.pk}"' in html and 'id="presence"' not in html


def test_setting_presence(client_for, agent):
    client = client_for(agent)
    response = client.post("/routing/presence/", {"presence": "away"}, **HTMX)
    assert response.status_code == 200 and 'value="away" selected' in response.content.decode()
    assert AgentState.objects.get(user=agent).presence == "away"
    assert client.post("/routing/presence/", {"presence": "asleep"}, **HTMX).status_code == 422
    assert client.post("/routing/presence/", {"presence": "available"}).status_code == 302  # without HTMX


def test_accepting_an_offer_assigns_and_opens_the_conversation(client_for, agent, offered):
    response = client_for(agent).post(f"/routing/offers/{offered.pk}/accept/", **HTMX)
    assert response.status_code == 204
    assert response["HX-Redirect"] == f"/conversations/{offered.conversation_id}/"
    assert Conversation.objects.get(pk=offered.conversation_id).assignee == agent
    # Accepting again: the offer is not ringing any more.
    again = client_for(agent).post(f"/routing/offers/{offered.pk}/accept/", **HTMX)
    assert again.status_code == 409


def test_declining_an_offer_puts_it_back_in_the_queue(client_for, agent, offered):
    response = client_for(agent).post(f"/routing/offers/{offered.pk}/decline/", **HTMX)
    assert response.status_code == 200
    assert f'data-task-id="{offered.pk}"' not in response.content.decode()
    offered.refresh_from_db()
    assert offered.status == "waiting"


def test_an_expired_offer_is_not_shown_and_cannot_be_accepted(client_for, agent, offered):
    RoutingTask.objects.filter(pk=offered.pk).update(offer_expires_at=timezone.now() - timedelta(seconds=1))
    assert (
        f'data-task-id="{offered.pk}"'
        not in client_for(agent).get("/routing/offers/", **HTMX).content.decode()
    )
    assert client_for(agent).post(f"/routing/offers/{offered.pk}/accept/", **HTMX).status_code == 409


def test_nobody_else_can_see_or_answer_an_agents_offer(client_for, billing_agent, manager, offered):
    for user in (billing_agent, manager):
        client = client_for(user)
        assert client.post(f"/routing/offers/{offered.pk}/accept/", **HTMX).status_code == 404
        assert client.post(f"/routing/offers/{offered.pk}/decline/", **HTMX).status_code == 404
        assert f'data-task-id="{offered.pk}"' not in client.get("/routing/offers/", **HTMX).content.decode()
    offered.refresh_from_db()
    assert offered.status == "offered"
    assert client_for(manager).post("/routing/offers/999999/accept/", **HTMX).status_code == 404


def test_the_routing_pages_need_a_signed_in_user_and_post(client, client_for, agent, offered):
    assert client.get("/routing/offers/").status_code == 302
    assert client.post(f"/routing/offers/{offered.pk}/accept/").status_code == 302
    assert client_for(agent).get(f"/routing/offers/{offered.pk}/accept/").status_code == 405


def test_the_routing_log_says_why_the_work_went_to_whom(client_for, manager, agent, offered):
    page = client_for(manager).get(f"/conversations/{offered.conversation_id}/").content.decode()
    assert "Routing log" in page
    assert "Queued: priority normal" in page
    assert f"Offered to {agent.display_name}: longest idle available agent with preferred skill level" in page
