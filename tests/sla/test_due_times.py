"""Each conversation carries the due times of the policy that fits it, kept current as it changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from firstring.conversations.models import Conversation
from firstring.conversations.services import conversation_set_priority, conversation_set_status, reply_send
from firstring.customers.models import Customer
from firstring.sla.models import BusinessCalendar, Holiday, SlaPolicy

pytestmark = pytest.mark.django_db

# Tuesday 24 November 2026, 10:00 in Berlin.
TUESDAY_10 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture
def policies() -> dict[str, SlaPolicy]:
    office = BusinessCalendar.objects.create(
        name="Berlin office",
        time_zone="Europe/Berlin",
        hours={day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
    )
    Holiday.objects.create(calendar=office, date=datetime(2026, 11, 25).date(), name="Company day")
    return {
        "vip": SlaPolicy.objects.create(
            name="VIP", position=1, customer_tier="vip", first_response_minutes=15, resolution_minutes=240
        ),
        "urgent": SlaPolicy.objects.create(
            name="Urgent", position=2, priority=Conversation.Priority.URGENT, first_response_minutes=30
        ),
        "email": SlaPolicy.objects.create(
            name="E-mail in office hours",
            position=3,
            channel_kind="email",
            first_response_minutes=120,
            next_response_minutes=240,
            resolution_minutes=8 * 60 * 3,
            calendar=office,
        ),
    }


def test_a_new_conversation_gets_the_first_matching_policy_and_its_due_times(
    policies, receive, email_channel
):
    conversation = receive(email="a@example.com", channel=email_channel, received_at=TUESDAY_10).conversation
    conversation.refresh_from_db()
    assert conversation.sla_policy == policies["email"]
    # Two office hours from Tuesday 10:00 Berlin: 12:00 Berlin.
    assert conversation.first_response_due_at == datetime(2026, 11, 24, 11, 0, tzinfo=UTC)
    assert conversation.next_response_due_at is None
    # Three office days (24 h): Tuesday 10-17 (7), Wednesday is a holiday, Thursday (15), Friday (23),
    # and the last hour on Monday: 10:00 Berlin.
    assert conversation.resolution_due_at == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert conversation.sla_due_at == conversation.first_response_due_at  # the inbox sorts by the earliest


def test_a_reply_meets_the_first_response_and_the_next_customer_message_starts_the_next(
    policies, receive, email_channel, agent
):
    conversation = receive(email="b@example.com", channel=email_channel, received_at=TUESDAY_10).conversation
    reply_send(conversation=conversation, author=agent, text="Looking into it.")
    conversation.refresh_from_db()
    assert conversation.first_response_due_at is None and conversation.next_response_due_at is None
    later = TUESDAY_10 + timedelta(hours=6)  # 16:00 Berlin: one office hour left on Tuesday
    receive(email="b@example.com", channel=email_channel, received_at=later)
    conversation.refresh_from_db()
    # Four office hours: one on Tuesday, none on the holiday, three on Thursday from 09:00.
    assert conversation.next_response_due_at == datetime(2026, 11, 26, 11, 0, tzinfo=UTC)
    # Answered once, the inbox's SLA order follows the next response, not the first one.
    assert conversation.first_response_due_at is None
    assert conversation.sla_due_at == conversation.next_response_due_at


def test_resolving_clears_every_due_time_and_a_customer_reply_sets_them_again(
    policies, receive, email_channel, agent
):
    conversation = receive(
        email="c@example.com", channel=email_channel, thread="t-c", received_at=TUESDAY_10
    ).conversation
    conversation_set_status(conversation=conversation, status="resolved", actor=agent)
    conversation.refresh_from_db()
    assert (conversation.first_response_due_at, conversation.resolution_due_at) == (None, None)
    receive(
        email="c@example.com",
        channel=email_channel,
        thread="t-c",
        received_at=TUESDAY_10 + timedelta(hours=1),
    )
    conversation.refresh_from_db()
    assert conversation.status == "open" and conversation.resolution_due_at is not None


def test_priority_and_tier_choose_the_policy(policies, receive, api_channel, agent):
    conversation = receive(email="d@example.com", channel=api_channel).conversation
    conversation.refresh_from_db()
    assert conversation.sla_policy is None and conversation.first_response_due_at is None  # no policy fits
    conversation_set_priority(conversation=conversation, priority=Conversation.Priority.URGENT, actor=agent)
    conversation.refresh_from_db()
    assert conversation.sla_policy == policies["urgent"]
    assert conversation.first_response_due_at == conversation.created_at + timedelta(
        minutes=30
    )  # round the clock

    Customer.objects.filter(pk=conversation.customer_id).update(tier="vip")
    vip = receive(email="d@example.com", channel=api_channel, thread="another").conversation
    vip.refresh_from_db()
    assert vip.sla_policy == policies["vip"]
    assert vip.first_response_due_at == vip.created_at + timedelta(minutes=15)


def test_a_batch_measures_every_conversation_it_touches(policies, email_channel):
    from firstring.conversations.services import receive_messages
    from firstring.conversations.services.receive import Inbound
    from firstring.customers.identities import IdentityClaim, normalize_claim

    inbounds = [
        Inbound(
            channel=email_channel,
            claims=[normalize_claim(IdentityClaim("email", f"batch{n % 3}@example.com"))],
            text=f"Message {n}",
            received_at=TUESDAY_10 + timedelta(minutes=n),
        )
        for n in range(9)
    ]
    results = receive_messages(inbounds)
    conversations = Conversation.objects.filter(pk__in={r.conversation.pk for r in results})
    assert conversations.count() == 3
    for conversation in conversations:
        assert conversation.sla_policy_id == policies["email"].pk
        # Due from the conversation's start (its first message), not from its latest.
        assert conversation.first_response_due_at == conversation.created_at + timedelta(hours=2)


def test_the_inbox_sla_sort_follows_the_next_target_that_matters(receive, agent):
    from django.utils import timezone

    from firstring.conversations.selectors import InboxFilter, inbox_page

    SlaPolicy.objects.create(
        name="Everyone", first_response_minutes=60, next_response_minutes=10, resolution_minutes=600
    )
    now = timezone.now()
    # Answered, then the customer wrote again: the next response (in five minutes) is what matters.
    waiting = receive(email="w@example.com", thread="w", received_at=now - timedelta(minutes=30)).conversation
    reply_send(conversation=waiting, author=agent, text="Done.")
    receive(email="w@example.com", thread="w", received_at=now - timedelta(minutes=5))
    # New: the first response, in an hour.
    new = receive(email="n@example.com", thread="n", received_at=now).conversation
    # Answered and quiet: only the resolution, in nine hours and forty minutes.
    answered = receive(
        email="a@example.com", thread="a", received_at=now - timedelta(minutes=20)
    ).conversation
    reply_send(conversation=answered, author=agent, text="Done.")

    rows, _ = inbox_page(user=agent, filters=InboxFilter(sort="sla"), limit=10)
    assert [c.pk for c in rows] == [waiting.pk, new.pk, answered.pk]
    first = rows[0]
    assert first.first_response_due_at is None
    assert (
        first.sla_due_at == first.next_response_due_at == now - timedelta(minutes=5) + timedelta(minutes=10)
    )
    assert rows[2].sla_due_at == rows[2].resolution_due_at
