"""Agents see and act only on what access.py allows; everything else is a 404, whatever the method."""

from __future__ import annotations

import pytest

from firstring.channels.models import Channel
from firstring.conversations.models import ConversationEvent, Message
from tests.web.conftest import HTMX

pytestmark = pytest.mark.django_db


@pytest.fixture
def billing_conversation(receive, billing_team):
    channel = Channel.objects.create(
        kind="email", slug="billing-mail", name="Billing mail", team=billing_team
    )
    return receive(
        email="secret@example.com", text="Invoice question", channel=channel, name="Sam Secret"
    ).conversation


ACTIONS = [
    ("reply", {"text": "hi"}),
    ("note", {"text": "hi"}),
    ("assign", {"assignee": ""}),
    ("team", {"team": ""}),
    ("status", {"status": "resolved"}),
    ("priority", {"priority": 4}),
    ("tags", {"tags": "x"}),
]


def test_agent_of_another_team_gets_404_everywhere(client_for, agent, billing_conversation):
    client = client_for(agent)
    pk = billing_conversation.pk
    assert client.get(f"/conversations/{pk}/").status_code == 404
    assert client.get(f"/conversations/{pk}/timeline/", **HTMX).status_code == 404
    for action, data in ACTIONS:
        assert client.post(f"/conversations/{pk}/{action}/", data).status_code == 404, action
        assert client.post(f"/conversations/{pk}/{action}/", data, **HTMX).status_code == 404, action
    assert not Message.objects.filter(conversation=billing_conversation).exclude(direction="inbound").exists()
    assert (
        not ConversationEvent.objects.filter(conversation=billing_conversation)
        .exclude(kind="created")
        .exists()
    )
    # Nor does it appear in their inbox, search or customer pages.
    assert "Invoice question" not in client.get("/?q=Invoice").content.decode()
    assert "Sam Secret" not in client.get("/customers/?q=Sam").content.decode()
    assert client.get(f"/customers/{billing_conversation.customer_id}/").status_code == 404


def test_the_team_and_managers_see_it(client_for, billing_agent, manager, billing_conversation):
    for user in (billing_agent, manager):
        response = client_for(user).get(f"/conversations/{billing_conversation.pk}/")
        assert response.status_code == 200
        assert "Invoice question" in response.content.decode()


def test_unknown_ids_are_404(client_for, agent):
    client = client_for(agent)
    assert client.get("/conversations/987654/").status_code == 404
    assert client.get("/customers/987654/").status_code == 404
    assert client.post("/customers/987654/merge/", {"other": 1}).status_code == 404


def test_customer_page_lists_only_visible_conversations(client_for, agent, receive, billing_conversation):
    visible = receive(email="secret@example.com", text="Open question").conversation
    html = client_for(agent).get(f"/customers/{visible.customer_id}/").content.decode()
    assert f'href="/conversations/{visible.pk}/"' in html
    assert f'href="/conversations/{billing_conversation.pk}/"' not in html
