"""The inbox: views, filters, sorting and cursor pagination, and who sees what."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from firstring.conversations.models import Conversation
from firstring.conversations.selectors import InboxFilter, inbox_counts, inbox_page
from firstring.conversations.services import conversation_assign, conversation_set_status
from firstring.lib.errors import InvalidInput

pytestmark = pytest.mark.django_db


def _page_ids(user, **filters):
    rows, _ = inbox_page(user=user, filters=InboxFilter(**filters))
    return [c.pk for c in rows]


def test_views_and_counts(receive, agent, manager, email_channel, support_team):
    mine = receive(email="a@example.com").conversation
    conversation_assign(conversation=mine, assignee=agent, actor=agent)
    unassigned = receive(email="b@example.com", channel=email_channel).conversation
    done = receive(email="c@example.com").conversation
    conversation_set_status(conversation=done, status="resolved", actor=agent)

    assert _page_ids(agent, view="mine") == [mine.pk]
    assert _page_ids(agent, view="unassigned") == [unassigned.pk]
    assert _page_ids(agent, view="my_teams") == [unassigned.pk]
    assert set(_page_ids(agent, view="all_open")) == {mine.pk, unassigned.pk}
    assert _page_ids(agent, view="resolved") == [done.pk]
    assert inbox_counts(user=agent) == {
        "mine": 1,
        "unassigned": 1,
        "my_teams": 1,
        "all_open": 2,
        "escalated": 0,
        "resolved": 1,
    }


def test_agents_do_not_see_other_teams_conversations(receive, agent, billing_agent, manager, billing_team):
    from firstring.channels.models import Channel

    billing = Channel.objects.create(kind="email", slug="billing-mail", name="Billing", team=billing_team)
    theirs = receive(email="d@example.com", channel=billing).conversation
    assert theirs.pk not in _page_ids(agent, view="all_open")
    assert theirs.pk in _page_ids(billing_agent, view="all_open")
    assert theirs.pk in _page_ids(manager, view="all_open")


def test_filters(receive, agent, email_channel):
    a = receive(email="e@example.com", channel=email_channel, language="de").conversation
    b = receive(email="f@example.com").conversation
    Conversation.objects.filter(pk=b.pk).update(priority=4, tone_latest="negative")
    assert _page_ids(agent, channel="email") == [a.pk]
    assert _page_ids(agent, channel="support-email") == [a.pk]
    assert _page_ids(agent, language="de") == [a.pk]
    assert _page_ids(agent, priority=4) == [b.pk]
    assert _page_ids(agent, tone="negative") == [b.pk]


def test_search_finds_message_text_and_customer(receive, agent):
    a = receive(email="gina@example.com", text="The invoice is wrong", name="Gina").conversation
    receive(email="h@example.com", text="Lovely service")
    assert _page_ids(agent, q="invoice") == [a.pk]
    assert _page_ids(agent, q="Gina") == [a.pk]


@pytest.mark.parametrize("sort", ["recent", "priority", "waiting", "sla"])
def test_cursor_pagination_visits_every_conversation_once(receive, agent, sort):
    now = timezone.now()
    for i in range(23):
        conversation = receive(
            email=f"p{i}@example.com", received_at=now - timedelta(minutes=i % 5)
        ).conversation
        Conversation.objects.filter(pk=conversation.pk).update(
            priority=1 + i % 4,
            waiting_since=None if i % 3 == 0 else now - timedelta(minutes=i % 4),
            sla_due_at=None if i % 2 else now + timedelta(minutes=i % 3),
        )
    seen: list[int] = []
    cursor = None
    while True:
        rows, cursor = inbox_page(user=agent, filters=InboxFilter(sort=sort), cursor=cursor, limit=5)
        seen += [c.pk for c in rows]
        if cursor is None:
            break
    assert len(seen) == 23 and len(set(seen)) == 23
    full, _ = inbox_page(user=agent, filters=InboxFilter(sort=sort), limit=100)
    assert seen == [c.pk for c in full]


def test_bad_filters_and_cursors_are_refused(agent):
    with pytest.raises(InvalidInput):
        inbox_page(user=agent, filters=InboxFilter(view="nope"))
    with pytest.raises(InvalidInput):
        inbox_page(user=agent, filters=InboxFilter(), cursor="not-a-cursor!!")
    with pytest.raises(InvalidInput):
        inbox_page(user=agent, filters=InboxFilter(), limit=0)
