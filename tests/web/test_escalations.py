"""Escalating from the conversation page, handling it in the app, and the lessons page."""

from __future__ import annotations

import pytest
from django.test import Client

from firstring.accounts.models import User
from firstring.escalations.models import Escalation, Lesson
from firstring.routing.models import AgentState
from firstring.routing.services import presence_set

pytestmark = pytest.mark.django_db


@pytest.fixture
def mo(support_team) -> User:
    user = User.objects.create_user(email="mo@example.com", name="mo", role=User.Role.MANAGER)
    support_team.members.add(user)
    presence_set(user=user, presence=AgentState.Presence.AVAILABLE)
    return user


@pytest.fixture
def conversation(receive, email_channel):
    return receive(
        email="esc@example.com", channel=email_channel, text="<script>x()</script>Cancel"
    ).conversation


def test_escalating_from_the_conversation_page_and_handling_it_in_the_app(
    conversation, agent, mo, client_for
):
    page = client_for(agent).get(f"/conversations/{conversation.pk}/").content.decode()
    assert "Escalate to a manager" in page
    response = client_for(agent).post(
        f"/conversations/{conversation.pk}/escalate/", {"reason": "VIP <b>angry</b>"}
    )
    assert response.status_code == 302
    escalation = Escalation.objects.get()
    page = client_for(agent).get(f"/conversations/{conversation.pk}/").content.decode()
    assert "Escalated</strong> to mo" in page
    # Agents don't open escalations; managers do, with the customer's words escaped.
    assert client_for(agent).get(f"/escalations/{escalation.pk}/").status_code == 403
    manager_page = client_for(mo).get(f"/escalations/{escalation.pk}/").content.decode()
    assert "VIP &lt;b&gt;angry&lt;/b&gt;" in manager_page and "<b>angry" not in manager_page
    assert "&lt;script&gt;x()" in manager_page and "<script>x()" not in manager_page
    assert client_for(mo).get("/escalations/").status_code == 200
    client: Client = client_for(mo)
    assert client.post(f"/escalations/{escalation.pk}/take/").status_code == 302
    conversation.refresh_from_db()
    assert conversation.assignee == mo
    response = client.post(
        f"/escalations/{escalation.pk}/resolve/",
        {"outcome": "Called back", "lesson_title": "Call VIPs", "lesson_text": "Phone beats e-mail."},
    )
    assert response.status_code == 302
    assert Lesson.objects.get().escalation == escalation
    lessons = client_for(agent).get("/lessons/?q=phone").content.decode()
    assert "Call VIPs" in lessons


def test_bad_escalation_input_gets_a_clear_answer(conversation, agent, mo, client_for):
    client = client_for(agent)
    assert client.post(f"/conversations/{conversation.pk}/escalate/", {"reason": ""}).status_code == 422
    assert (
        client.post(
            f"/conversations/{conversation.pk}/escalate/", {"reason": "x", "manager": "999"}
        ).status_code
        == 422
    )
    assert (
        client.post(f"/conversations/{conversation.pk}/escalate/", {"reason": "x" * 2001}).status_code == 422
    )
    assert client.post("/conversations/999999/escalate/", {"reason": "x"}).status_code == 404
    assert client.post("/lessons/", {"title": "t", "text": "x"}).status_code == 403
    assert Escalation.objects.count() == 0
