"""Service levels watched: a warning before a miss, and on a miss the policy's escalation, each once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from firstring.conversations.models import Conversation, ConversationEvent
from firstring.conversations.services import conversation_assign
from firstring.routing.models import AgentState, Notification, RoutingTask, SlaAlert
from firstring.routing.services import presence_set, sla_watch
from firstring.sla.models import SlaPolicy
from tests.http_peer import http_peer

pytestmark = pytest.mark.django_db


@pytest.fixture
def email_policy() -> SlaPolicy:
    return SlaPolicy.objects.create(
        name="E-mail",
        channel_kind="email",
        first_response_minutes=60,
        resolution_minutes=600,
        warn_minutes=15,
    )


@pytest.fixture
def conversation(email_policy, receive, email_channel) -> Conversation:
    result = receive(email="sla@example.com", channel=email_channel, subject="Broken <b>kettle</b>")
    result.conversation.refresh_from_db()
    assert result.conversation.first_response_due_at is not None
    return result.conversation


def test_a_warning_goes_to_the_agent_on_it_once(
    conversation, agent, run_tasks, django_capture_on_commit_callbacks
):
    conversation_assign(conversation=conversation, assignee=agent, actor=agent)
    due = conversation.first_response_due_at
    assert sla_watch(now=due - timedelta(minutes=30)) == 0  # not yet within the warning
    with django_capture_on_commit_callbacks(execute=True):
        assert sla_watch(now=due - timedelta(minutes=10)) == 1
        assert sla_watch(now=due - timedelta(minutes=5)) == 0  # once
    run_tasks()
    assert list(Notification.objects.values_list("user__email", "kind")) == [(agent.email, "sla_warning")]
    assert [m.to for m in mail.outbox] == [[agent.email]]
    assert "First response due" in mail.outbox[0].subject
    assert ConversationEvent.objects.filter(conversation=conversation, kind="sla_warning").count() == 1


def test_a_breach_raises_priority_tells_the_managers_and_moves_the_work_up(
    conversation, agent, manager, run_tasks, django_capture_on_commit_callbacks
):
    presence_set(user=agent, presence=AgentState.Presence.AWAY)
    conversation_assign(conversation=conversation, assignee=agent, actor=agent)
    due = conversation.first_response_due_at
    with django_capture_on_commit_callbacks(execute=True):
        assert sla_watch(now=due + timedelta(seconds=1)) == 1
    conversation.refresh_from_db()
    assert conversation.priority == Conversation.Priority.HIGH
    # Its agent is away: back to the queue, ahead of work that has waited half an hour.
    assert conversation.assignee is None
    task = RoutingTask.objects.get(conversation=conversation, status="waiting")
    assert task.rank_at <= due + timedelta(seconds=1) - timedelta(minutes=30)
    notified = set(Notification.objects.filter(kind="sla_breach").values_list("user__email", flat=True))
    assert notified == {agent.email, manager.email}
    alert = SlaAlert.objects.get(kind="breach")
    assert (alert.target, alert.due_at) == ("first_response", due)
    # Raising the priority changed no policy here, so the same miss is not raised again.
    assert sla_watch(now=due + timedelta(minutes=5)) == 0


def test_an_agent_at_work_keeps_the_breached_conversation(conversation, agent, manager):
    presence_set(user=agent, presence=AgentState.Presence.AVAILABLE)
    conversation_assign(conversation=conversation, assignee=agent, actor=agent)
    sla_watch(now=conversation.first_response_due_at + timedelta(seconds=1))
    conversation.refresh_from_db()
    assert conversation.assignee == agent


def test_met_targets_and_resolved_conversations_raise_nothing(conversation, agent):
    from firstring.conversations.services import conversation_set_status, reply_send

    reply_send(conversation=conversation, author=agent, text="On it")
    conversation_set_status(conversation=conversation, status="resolved", actor=agent)
    assert sla_watch(now=timezone.now() + timedelta(days=30)) == 0


def test_the_alert_webhook_gets_slack_json_with_customer_text_made_inert(
    conversation, manager, settings, run_tasks, django_capture_on_commit_callbacks
):
    with http_peer() as peer:
        settings.FIRSTRING_ALERT_WEBHOOK_URL = peer.url
        with django_capture_on_commit_callbacks(execute=True):
            sla_watch(now=conversation.first_response_due_at + timedelta(seconds=1))
        run_tasks()
    (request,) = peer.requests
    text = request.json()["text"]
    assert text.startswith("First response missed")
    assert "Broken &lt;b&gt;kettle&lt;/b&gt;" in text and "<b>" not in text
