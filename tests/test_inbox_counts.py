"""The inbox's view counts, kept by database triggers, stay what counting the conversations would give.

Each test changes conversations in a different way (services, bulk updates, deletes, a deleted team or
user) and compares `inbox_counts` with counting each view's conversations for an agent and a manager.
"""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.utils import timezone

from firstring.accounts.models import Team
from firstring.conversations.models import Conversation, InboxCount
from firstring.conversations.selectors import VIEWS, InboxFilter, inbox_counts, inbox_queryset
from firstring.conversations.services import (
    conversation_assign,
    conversation_set_status,
    conversation_set_team,
    inbox_counts_compact,
    inbox_counts_rebuild,
)
from firstring.ops.services import periodic_jobs_run

pytestmark = pytest.mark.django_db


def _counted(user):
    return {view: inbox_queryset(user=user, filters=InboxFilter(view=view)).count() for view in VIEWS}


def _assert_counts_right(*users):
    for user in users:
        assert inbox_counts(user=user) == _counted(user), user.email


def test_counts_follow_every_service(receive, agent, manager, billing_agent, email_channel, billing_team):
    _assert_counts_right(agent, manager)
    first = receive(email="a@example.com").conversation
    second = receive(email="b@example.com", channel=email_channel).conversation
    third = receive(email="c@example.com", channel=email_channel).conversation
    _assert_counts_right(agent, manager, billing_agent)

    conversation_assign(conversation=first, assignee=agent, actor=agent)
    conversation_assign(conversation=second, assignee=agent, actor=agent)
    _assert_counts_right(agent, manager, billing_agent)
    assert inbox_counts(user=agent)["mine"] == 2

    conversation_set_status(conversation=second, status="resolved", actor=agent)
    conversation_set_status(conversation=third, status="pending", actor=agent)
    _assert_counts_right(agent, manager, billing_agent)

    conversation_assign(conversation=first, assignee=None, actor=manager)
    conversation_set_team(conversation=third, team=billing_team, actor=manager)
    _assert_counts_right(agent, manager, billing_agent)
    assert inbox_counts(user=billing_agent)["my_teams"] == 1

    # A new message on a resolved conversation reopens it.
    receive(email="b@example.com", channel=email_channel, text="Still broken")
    _assert_counts_right(agent, manager, billing_agent)
    assert inbox_counts(user=manager)["resolved"] == Conversation.objects.filter(status="resolved").count()


def test_counts_follow_bulk_updates_and_deletes(receive, agent, manager, email_channel, support_team):
    conversations = [receive(email=f"p{i}@example.com", channel=email_channel).conversation for i in range(6)]
    Conversation.objects.filter(pk__in=[c.pk for c in conversations[:2]]).update(escalated_at=timezone.now())
    Conversation.objects.filter(pk=conversations[2].pk).update(status="resolved", assignee=agent)
    _assert_counts_right(agent, manager)
    assert inbox_counts(user=manager)["escalated"] == 2

    Conversation.objects.filter(pk=conversations[3].pk).delete()
    # A deleted team leaves its conversations without one (SET_NULL), visible to every agent.
    Team.objects.filter(pk=support_team.pk).delete()
    _assert_counts_right(agent, manager)
    # Changes that move no conversation to another group record nothing.
    rows = InboxCount.objects.count()
    Conversation.objects.update(priority=4, updated_at=timezone.now())
    assert InboxCount.objects.count() == rows


def test_compaction_folds_the_changes_into_one_row_per_group(receive, agent, manager):
    for i in range(4):
        conversation = receive(email=f"q{i}@example.com").conversation
        conversation_assign(conversation=conversation, assignee=agent, actor=agent)
        conversation_assign(conversation=conversation, assignee=None, actor=agent)
    before = InboxCount.objects.count()

    assert inbox_counts_compact() == before
    groups = list(InboxCount.objects.values_list("team_id", "assignee_id", "status", "escalated", "delta"))
    assert groups == [(None, None, "open", False, 4)]
    _assert_counts_right(agent, manager)
    # The workers run it between tasks.
    conversation_set_status(conversation=conversation, status="resolved", actor=agent)
    periodic_jobs_run()
    assert InboxCount.objects.count() == 2
    _assert_counts_right(agent, manager)


def test_rebuild_and_flush_count_afresh(receive, agent, manager):
    receive(email="r@example.com")
    InboxCount.objects.create(team_id=None, assignee_id=None, status="open", escalated=False, delta=5)
    inbox_counts_rebuild()
    _assert_counts_right(agent, manager)
    assert InboxCount.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_counts_start_from_zero_after_a_flush(receive, agent):
    receive(email="s@example.com")
    call_command("flush", interactive=False, verbosity=0)
    assert not Conversation.objects.exists()
    assert list(InboxCount.objects.all()) == []
