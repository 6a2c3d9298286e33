"""One-click escalation to a manager: who is asked, what they get, acknowledging, climbing, resolving."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from firstring.accounts.models import User
from firstring.conversations.models import ConversationEvent
from firstring.escalations.models import Escalation
from firstring.escalations.selectors import lessons_search
from firstring.escalations.services import (
    escalation_acknowledge,
    escalation_raise,
    escalation_resolve,
    escalations_climb,
    manager_on_duty,
)
from firstring.lib.errors import Conflict, Forbidden, InvalidInput
from firstring.routing.models import AgentState, Notification
from firstring.routing.services import presence_set

pytestmark = pytest.mark.django_db


def _manager(name: str, *teams, available: bool = True) -> User:
    user = User.objects.create_user(email=f"{name}@example.com", name=name, role=User.Role.MANAGER)
    for team in teams:
        team.members.add(user)
    presence_set(user=user, presence=AgentState.Presence.AVAILABLE if available else AgentState.Presence.AWAY)
    return user


@pytest.fixture
def conversation(receive, email_channel):
    receive(email="esc@example.com", channel=email_channel, text="First, years ago", thread="old")
    result = receive(
        email="esc@example.com",
        channel=email_channel,
        text="<script>x()</script>I want to cancel NOW",
        thread="t",
    )
    return result.conversation


def test_the_manager_on_duty_is_present_on_the_team_and_least_busy(conversation, support_team, billing_team):
    away = _manager("away", support_team, available=False)
    busy = _manager("busy", support_team)
    free = _manager("free", support_team)
    other_team = _manager("other", billing_team)
    Escalation.objects.create(conversation=conversation, reason="x", manager=busy, status="resolved")
    Escalation.objects.create(
        conversation=conversation.customer.conversations.exclude(pk=conversation.pk).get(),
        reason="x",
        manager=busy,
    )
    assert manager_on_duty(conversation=conversation) == free
    assert manager_on_duty(conversation=conversation, exclude={free.pk}) == busy
    assert (
        manager_on_duty(conversation=conversation, exclude={free.pk, busy.pk}) == other_team
    )  # present first
    assert manager_on_duty(conversation=conversation, exclude={free.pk, busy.pk, other_team.pk}) == away


def test_raising_notifies_the_manager_with_the_context_pack(
    conversation, agent, support_team, run_tasks, django_capture_on_commit_callbacks
):
    mo = _manager("mo", support_team)
    with django_capture_on_commit_callbacks(execute=True):
        escalation = escalation_raise(conversation=conversation, raised_by=agent, reason="Threatens to leave")
    run_tasks()
    assert escalation.manager == mo and escalation.status == "open"
    conversation.refresh_from_db()
    assert conversation.escalated_at is not None
    event = ConversationEvent.objects.get(conversation=conversation, kind="escalated")
    assert event.data == {"reason": "Threatens to leave"} and event.actor == agent
    note = Notification.objects.get(user=mo)
    assert note.kind == "escalation" and note.url == f"/escalations/{escalation.pk}/"
    (message,) = mail.outbox
    assert message.to == [mo.email]
    # The context pack: the reason, the customer's words, their other conversations.
    assert "Reason: Threatens to leave" in message.body
    assert "I want to cancel NOW" in message.body
    assert "Other conversations of this customer" in message.body


def test_one_live_escalation_per_conversation_and_a_reason_is_required(conversation, agent, support_team):
    _manager("mo", support_team)
    with pytest.raises(InvalidInput, match="say why"):
        escalation_raise(conversation=conversation, raised_by=agent, reason="   ")
    escalation_raise(conversation=conversation, raised_by=agent, reason="Angry")
    with pytest.raises(Conflict, match="escalated already"):
        escalation_raise(conversation=conversation, raised_by=agent, reason="Again")
    assert Escalation.objects.count() == 1


def test_no_manager_at_all_is_a_clear_conflict(conversation, agent):
    with pytest.raises(Conflict, match="no active manager"):
        escalation_raise(conversation=conversation, raised_by=agent, reason="Help")
    conversation.refresh_from_db()
    assert conversation.escalated_at is None


def test_an_unacknowledged_escalation_climbs_to_the_next_manager(conversation, agent, support_team, settings):
    first, second = _manager("first", support_team), _manager("second", support_team)
    escalation = escalation_raise(conversation=conversation, raised_by=agent, reason="Legal threat")
    assert escalation.manager == first
    later = timezone.now() + timedelta(minutes=settings.FIRSTRING_ESCALATION_ACK_MINUTES + 1)
    assert escalations_climb() == 0  # not yet
    assert escalations_climb(now=later) == 1
    escalation.refresh_from_db()
    assert escalation.manager == second and escalation.asked == [first.pk, second.pk]
    assert Notification.objects.filter(user=second, kind="escalation").exists()
    # Everyone asked: it starts over rather than going quiet.
    assert (
        escalations_climb(now=later + timedelta(minutes=settings.FIRSTRING_ESCALATION_ACK_MINUTES + 1)) == 1
    )
    escalation.refresh_from_db()
    assert escalation.manager == first
    # Acknowledged: it stays.
    escalation_acknowledge(escalation=escalation, manager=first)
    assert escalations_climb(now=later + timedelta(hours=5)) == 0


def test_only_managers_handle_it_and_resolving_records_the_lesson(conversation, agent, support_team):
    mo = _manager("mo", support_team)
    escalation = escalation_raise(conversation=conversation, raised_by=agent, reason="Refund over limit")
    with pytest.raises(Forbidden):
        escalation_acknowledge(escalation=escalation, manager=agent)
    escalation_acknowledge(escalation=escalation, manager=mo)
    with pytest.raises(InvalidInput, match="both a title"):
        escalation_resolve(escalation=escalation, manager=mo, outcome="Refunded", lesson_title="Refunds")
    escalation_resolve(
        escalation=escalation,
        manager=mo,
        outcome="Refunded in full",
        lesson_title="Refund limits",
        lesson_text="Agents may refund up to 200 EUR without asking; raise the limit.",
    )
    escalation.refresh_from_db()
    assert escalation.status == "resolved" and escalation.acknowledged_at <= escalation.resolved_at
    conversation.refresh_from_db()
    assert conversation.escalated_at is None
    assert [lesson.title for lesson in lessons_search(query="refund 200")] == ["Refund limits"]
    assert lessons_search(query="refund shipping") == []
    with pytest.raises(Conflict):
        escalation_resolve(escalation=escalation, manager=mo, outcome="Again")


def test_the_api_escalates_and_managers_resolve_with_a_lesson(conversation, agent, support_team):
    from tests.conftest import make_api_caller

    mo = _manager("mo", support_team)
    as_agent, as_manager = make_api_caller(agent), make_api_caller(mo)
    path = f"/conversations/{conversation.pk}/escalations"
    assert as_agent("post", path, {"reason": ""}).status_code == 422
    assert as_agent("post", path, {"reason": "x", "manager_id": 2**62}).status_code == 422
    created = as_agent("post", path, {"reason": "Wants the CEO"})
    assert created.status_code == 201 and created.json()["manager"]["email"] == mo.email
    assert as_agent("post", path, {"reason": "Again"}).status_code == 409
    escalation_id = created.json()["id"]
    assert as_agent("get", "/escalations").status_code == 403
    assert [e["id"] for e in as_manager("get", "/escalations").json()] == [escalation_id]
    assert as_agent("post", f"/escalations/{escalation_id}/acknowledge").status_code == 403
    assert as_manager("post", f"/escalations/{escalation_id}/acknowledge").json()["status"] == "acknowledged"
    resolved = as_manager(
        "post",
        f"/escalations/{escalation_id}/resolve",
        {"outcome": "Called", "lesson_title": "CEO asks", "lesson_text": "Offer a call with a lead."},
    )
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    assert [lesson["title"] for lesson in as_agent("get", "/lessons?q=lead").json()] == ["CEO asks"]
    assert as_agent("post", "/lessons", {"title": "t", "text": "x"}).status_code == 403
    assert as_manager("post", "/escalations/999999/acknowledge").status_code == 404
