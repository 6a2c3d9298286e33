"""Managers change policies and calendars through the services; open conversations follow the change."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.utils import timezone

from firstring.conversations.models import Conversation
from firstring.conversations.services import sla as conversation_sla
from firstring.lib.errors import Conflict, Forbidden, InvalidInput
from firstring.routing.models import SlaAlert
from firstring.routing.services import sla_watch
from firstring.sla.models import BusinessCalendar, SlaPolicy
from firstring.sla.services import (
    business_calendar_delete,
    business_calendar_save,
    holiday_add,
    holiday_remove,
    sla_policy_delete,
    sla_policy_save,
    sla_preview,
)

pytestmark = pytest.mark.django_db

WEEKDAYS = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
# Tuesday 24 November 2026, 10:00 in Berlin.
TUESDAY_10 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def _tuesday_10_next_november() -> datetime:
    """10:00 in Berlin (winter time: 09:00 UTC) on the first Tuesday of next year's November.

    A conversation received then has its due times still ahead, and only those move when the settings
    change (a target already missed stays missed): a fixed date stops working once it has passed.
    """
    first = date(timezone.now().year + 1, 11, 1)
    return datetime.combine(first + timedelta(days=(1 - first.weekday()) % 7), time(9, 0), tzinfo=UTC)


@pytest.fixture
def saved(django_capture_on_commit_callbacks):
    """Run a service and what it queued after commit, as a request would."""

    def run(service, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return service(**kwargs)

    return run


def test_agents_may_not_edit_and_bad_values_are_refused(manager, agent):
    with pytest.raises(Forbidden):
        sla_policy_save(actor=agent, name="Mine", first_response_minutes=5)
    with pytest.raises(InvalidInput, match="at least one target"):
        sla_policy_save(actor=manager, name="Nothing")
    with pytest.raises(InvalidInput, match="priority"):
        sla_policy_save(actor=manager, name="Odd", priority=9, first_response_minutes=5)
    with pytest.raises(InvalidInput, match="targets"):
        sla_policy_save(actor=manager, name="Zero", first_response_minutes=0)
    with pytest.raises(InvalidInput, match="time zone"):
        business_calendar_save(actor=manager, name="X", time_zone="Mars/Olympus", hours=WEEKDAYS)
    with pytest.raises(InvalidInput, match="closes before it opens"):
        business_calendar_save(actor=manager, name="X", time_zone="UTC", hours={"mon": [["17:00", "09:00"]]})
    with pytest.raises(InvalidInput, match="overlap"):
        business_calendar_save(
            actor=manager, name="X", time_zone="UTC", hours={"mon": [["09:00", "13:00"], ["12:00", "17:00"]]}
        )
    business_calendar_save(actor=manager, name="Office", time_zone="UTC", hours=WEEKDAYS)
    with pytest.raises(Conflict):
        business_calendar_save(actor=manager, name="Office", time_zone="UTC", hours=WEEKDAYS)
    assert BusinessCalendar.objects.count() == 1 and not SlaPolicy.objects.exists()


def test_a_policy_change_moves_the_due_times_of_open_conversations_only(
    manager, agent, receive, email_channel, saved
):
    policy = saved(
        sla_policy_save, actor=manager, name="E-mail", channel_kind="Email", first_response_minutes=60
    )
    assert policy.channel_kind == "email"
    now = timezone.now()
    open_ = receive(email="a@example.com", channel=email_channel, received_at=now).conversation
    done = receive(email="b@example.com", channel=email_channel, received_at=now).conversation
    Conversation.objects.filter(pk=done.pk).update(status=Conversation.Status.RESOLVED)

    saved(
        sla_policy_save,
        actor=manager,
        policy=policy,
        name="E-mail",
        channel_kind="email",
        first_response_minutes=30,
    )
    open_.refresh_from_db()
    assert open_.first_response_due_at == open_.created_at + timedelta(minutes=30)
    assert open_.sla_due_at == open_.first_response_due_at
    done.refresh_from_db()
    assert done.first_response_due_at == done.created_at + timedelta(minutes=60)  # resolved: left alone

    # Deactivated, it applies no more; the conversation falls to nothing (or the next policy).
    saved(
        sla_policy_save, actor=manager, policy=policy, name="E-mail", active=False, first_response_minutes=30
    )
    open_.refresh_from_db()
    assert open_.sla_policy is None and open_.sla_due_at is None
    fallback = saved(sla_policy_save, actor=manager, name="Everything", resolution_minutes=600)
    open_.refresh_from_db()
    assert open_.sla_policy == fallback and open_.resolution_due_at == open_.created_at + timedelta(hours=10)
    saved(sla_policy_delete, actor=manager, policy=fallback)
    open_.refresh_from_db()
    assert open_.sla_policy is None and open_.resolution_due_at is None


def test_a_missed_target_keeps_its_breach_when_the_policy_changes(manager, receive, email_channel, saved):
    policy = saved(
        sla_policy_save,
        actor=manager,
        name="E-mail",
        channel_kind="email",
        first_response_minutes=60,
        resolution_minutes=24 * 60,
    )
    started = timezone.now() - timedelta(hours=2)
    conversation = receive(email="c@example.com", channel=email_channel, received_at=started).conversation
    conversation.refresh_from_db()
    missed_at = conversation.first_response_due_at
    assert sla_watch() >= 1
    assert (
        SlaAlert.objects.filter(conversation=conversation, kind="breach", target="first_response").count()
        == 1
    )

    saved(
        sla_policy_save,
        actor=manager,
        policy=policy,
        name="E-mail",
        channel_kind="email",
        first_response_minutes=240,
        resolution_minutes=12 * 60,
    )
    conversation.refresh_from_db()
    # The missed first response stays missed at the time it was missed; the resolution target moved.
    assert conversation.first_response_due_at == missed_at
    assert conversation.resolution_due_at == conversation.created_at + timedelta(hours=12)
    assert conversation.sla_due_at == missed_at
    sla_watch()
    assert (
        SlaAlert.objects.filter(conversation=conversation, kind="breach", target="first_response").count()
        == 1
    )


def test_many_conversations_are_measured_again_in_the_background(
    manager, receive, email_channel, saved, monkeypatch, run_tasks
):
    policy = saved(
        sla_policy_save, actor=manager, name="E-mail", channel_kind="email", first_response_minutes=60
    )
    conversations = [receive(email=f"m{n}@example.com", channel=email_channel).conversation for n in range(3)]
    monkeypatch.setattr(conversation_sla, "REMEASURE_INLINE", 2)
    monkeypatch.setattr(conversation_sla, "REMEASURE_BATCH", 2)
    saved(
        sla_policy_save,
        actor=manager,
        policy=policy,
        name="E-mail",
        channel_kind="email",
        first_response_minutes=5,
    )
    for conversation in conversations:
        conversation.refresh_from_db()
        assert conversation.first_response_due_at == conversation.created_at + timedelta(minutes=60)
    assert run_tasks() == 1
    for conversation in conversations:
        conversation.refresh_from_db()
        assert conversation.first_response_due_at == conversation.created_at + timedelta(minutes=5)


def test_calendar_and_holiday_changes_move_the_conversations_measured_in_it(
    manager, receive, email_channel, saved
):
    office = saved(
        business_calendar_save, actor=manager, name="Berlin", time_zone="Europe/Berlin", hours=WEEKDAYS
    )
    saved(
        sla_policy_save,
        actor=manager,
        name="E-mail",
        channel_kind="email",
        first_response_minutes=8 * 60,
        calendar=office,
    )
    tuesday = _tuesday_10_next_november()
    wednesday = tuesday + timedelta(days=1)
    conversation = receive(email="d@example.com", channel=email_channel, received_at=tuesday).conversation
    conversation.refresh_from_db()
    # Eight office hours from Tuesday 10:00 Berlin: Wednesday 10:00.
    assert conversation.first_response_due_at == wednesday

    holiday = saved(holiday_add, actor=manager, calendar=office, day=wednesday.date(), name="Company day")
    conversation.refresh_from_db()
    assert conversation.first_response_due_at == wednesday + timedelta(days=1)
    with pytest.raises(Conflict):
        holiday_add(actor=manager, calendar=office, day=wednesday.date())

    saved(holiday_remove, actor=manager, holiday=holiday)
    saved(
        business_calendar_save,
        actor=manager,
        calendar=office,
        name="Berlin",
        time_zone="Europe/Berlin",
        hours={**WEEKDAYS, "tue": [["09:00", "13:00"]]},
    )
    conversation.refresh_from_db()
    # Three hours left on Tuesday, five on Wednesday from 09:00: 14:00 Berlin.
    assert conversation.first_response_due_at == wednesday + timedelta(hours=4)
    with pytest.raises(Conflict, match="E-mail"):
        business_calendar_delete(actor=manager, calendar=office)


def test_the_preview_names_the_policy_and_why_the_earlier_ones_did_not_apply(manager):
    office = business_calendar_save(actor=manager, name="Berlin", time_zone="Europe/Berlin", hours=WEEKDAYS)
    sla_policy_save(actor=manager, name="VIP", position=1, customer_tier="vip", first_response_minutes=15)
    sla_policy_save(actor=manager, name="Urgent", position=2, priority=4, first_response_minutes=30)
    email = sla_policy_save(
        actor=manager,
        name="E-mail",
        position=3,
        channel_kind="email",
        first_response_minutes=120,
        next_response_minutes=60,
        resolution_minutes=8 * 60,
        calendar=office,
    )
    preview = sla_preview(priority=2, channel_kind="email", customer_tier="", at=TUESDAY_10)
    assert preview.policy == email
    assert [(p.name, why) for p, why in preview.passed_over] == [
        ("VIP", "customer tier is not vip"),
        ("Urgent", "priority is not urgent"),
    ]
    assert preview.first_response == datetime(2026, 11, 24, 11, 0, tzinfo=UTC)
    assert preview.next_response == datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    assert preview.resolution == datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    assert (
        sla_preview(priority=2, channel_kind="chat", customer_tier="VIP", at=TUESDAY_10).policy.name == "VIP"
    )
    assert sla_preview(priority=2, channel_kind="chat", customer_tier="", at=TUESDAY_10).policy is None


def test_an_edit_in_the_django_admin_reaches_open_conversations_too(
    admin_user, receive, email_channel, django_capture_on_commit_callbacks
):
    from django.test import Client

    policy = SlaPolicy.objects.create(name="E-mail", channel_kind="email", first_response_minutes=60)
    conversation = receive(email="adm@example.com", channel=email_channel).conversation
    client = Client()
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/admin/sla/slapolicy/{policy.pk}/change/",
            {"name": "E-mail", "position": "100", "active": "on", "channel_kind": "email",
             "first_response_minutes": "25", "warn_minutes": "15"},
        )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    conversation.refresh_from_db()
    assert conversation.first_response_due_at == conversation.created_at + timedelta(minutes=25)
