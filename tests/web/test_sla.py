"""Managers edit service levels in the app; agents may not; bad input gets the form's errors, not a 500."""

from __future__ import annotations

from datetime import timedelta

import pytest

from firstring.sla.models import BusinessCalendar, Holiday, SlaPolicy
from tests.web.conftest import HTMX

pytestmark = pytest.mark.django_db

WEEK = {"mon": "09:00-17:00", "tue": "09:00-12:00, 13:00-17:00", "wed": "09:00-17:00"}


@pytest.fixture
def office() -> BusinessCalendar:
    return BusinessCalendar.objects.create(
        name="Berlin", time_zone="Europe/Berlin", hours={"mon": [["09:00", "17:00"]]}
    )


def test_agents_get_403_on_every_page(client_for, agent, office):
    policy = SlaPolicy.objects.create(name="All", first_response_minutes=60)
    holiday = Holiday.objects.create(calendar=office, date="2026-12-24")
    client = client_for(agent)
    for path in ("/sla/", "/sla/preview/?priority=2", f"/sla/policies/{policy.pk}/", "/sla/calendars/",
                 f"/sla/calendars/{office.pk}/"):  # fmt: skip
        assert client.get(path).status_code == 403, path
    for path in (
        "/sla/",
        f"/sla/policies/{policy.pk}/",
        f"/sla/policies/{policy.pk}/delete/",
        "/sla/calendars/",
        f"/sla/calendars/{office.pk}/",
        f"/sla/calendars/{office.pk}/delete/",
        f"/sla/calendars/{office.pk}/holidays/",
        f"/sla/calendars/{office.pk}/holidays/{holiday.pk}/delete/",
    ):
        assert client.post(path, {"name": "x"}).status_code == 403, path
    assert SlaPolicy.objects.get().name == "All" and Holiday.objects.exists()


def test_a_manager_creates_edits_deactivates_and_deletes_a_policy(client_for, manager, office):
    client = client_for(manager)
    response = client.post(
        "/sla/",
        {
            "name": "VIP e-mail",
            "position": "5",
            "active": "on",
            "priority": "",
            "channel_kind": "Email",
            "customer_tier": "VIP",
            "first_response_minutes": "30",
            "resolution_minutes": "480",
            "calendar": office.pk,
            "warn_minutes": "10",
            "notify_lead": "on",
        },
    )
    assert response.status_code == 302
    policy = SlaPolicy.objects.get()
    assert (policy.channel_kind, policy.customer_tier, policy.calendar) == ("email", "vip", office)
    assert policy.raise_priority is False and policy.notify_lead is True
    page = client.get("/sla/").content.decode()
    assert (
        "VIP e-mail" in page and "channel email; tier vip" in page and "first <strong>active</strong>" in page
    )
    assert "VIP e-mail" in client.get(f"/sla/policies/{policy.pk}/").content.decode()

    # Bad input: the page again with the form's errors, 422.
    bad = client.post(f"/sla/policies/{policy.pk}/", {"name": "VIP", "position": "-1", "warn_minutes": "10"})
    assert bad.status_code == 422
    assert "Position" in bad.content.decode()
    no_target = client.post("/sla/", {"name": "Empty", "position": "1", "warn_minutes": "10"})
    assert no_target.status_code == 422 and "at least one target" in no_target.content.decode()
    unknown_calendar = client.post(
        "/sla/",
        {"name": "X", "position": "1", "warn_minutes": "1", "first_response_minutes": "5", "calendar": "999"},
    )
    assert unknown_calendar.status_code == 422
    assert SlaPolicy.objects.count() == 1

    deactivated = client.post(
        f"/sla/policies/{policy.pk}/",
        {"name": "VIP e-mail", "position": "5", "first_response_minutes": "30", "warn_minutes": "10"},
    )
    assert deactivated.status_code == 302
    policy.refresh_from_db()
    assert policy.active is False and policy.calendar is None
    assert client.post(f"/sla/policies/{policy.pk}/delete/").status_code == 302
    assert not SlaPolicy.objects.exists()
    assert client.get(f"/sla/policies/{policy.pk}/").status_code == 404


def test_the_preview_names_the_policy_and_its_due_times(client_for, manager):
    SlaPolicy.objects.create(name="VIP", position=1, customer_tier="vip", first_response_minutes=15)
    SlaPolicy.objects.create(name="Everyone", position=2, first_response_minutes=60, resolution_minutes=120)
    client = client_for(manager)
    response = client.get(
        "/sla/preview/", {"priority": "2", "channel_kind": "chat", "at": "2026-11-24T10:00"}, **HTMX
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert '<section id="sla-preview"' in page and "<html" not in page
    assert "Everyone" in page and "VIP: customer tier is not vip" in page
    assert "Tue 24 Nov 2026 11:00" in page and "Tue 24 Nov 2026 12:00" in page  # site time zone: UTC
    full = client.get("/sla/preview/", {"priority": "2", "customer_tier": "VIP"})
    assert full.status_code == 200 and '<strong class="sla-policy">VIP</strong>' in full.content.decode()
    bad = client.get("/sla/preview/", {"priority": "9", "at": "yesterday"}, **HTMX)
    assert bad.status_code == 422 and "priority: Select a valid choice" in bad.content.decode()


def test_a_manager_edits_a_calendar_and_its_holidays(client_for, manager):
    client = client_for(manager)
    response = client.post("/sla/calendars/", {"name": "Berlin", "time_zone": "Europe/Berlin", **WEEK})
    assert response.status_code == 302
    calendar = BusinessCalendar.objects.get()
    assert calendar.hours["tue"] == [["09:00", "12:00"], ["13:00", "17:00"]] and "thu" not in calendar.hours

    for fields, message in (
        ({"time_zone": "Europe/Berln"}, "unknown time zone"),
        ({"mon": "17:00-09:00"}, "closes before it opens"),
        ({"mon": "09:00-13:00, 12:00-17:00"}, "overlap"),
        ({"mon": "nine to five"}, "not an interval"),
        ({"mon": "09:00-25:00"}, "not a pair of HH:MM"),
    ):
        bad = client.post(
            f"/sla/calendars/{calendar.pk}/",
            {"name": "Berlin", "time_zone": "Europe/Berlin", **WEEK, **fields},
        )
        assert bad.status_code == 422, fields
        assert message in bad.content.decode(), fields
    duplicate = client.post("/sla/calendars/", {"name": "Berlin", "time_zone": "UTC", **WEEK})
    assert duplicate.status_code == 409
    calendar.refresh_from_db()
    assert calendar.hours["mon"] == [["09:00", "17:00"]]

    # Holidays under HTMX: the fragment with the holidays and the open hours comes back.
    added = client.post(
        f"/sla/calendars/{calendar.pk}/holidays/", {"date": "2027-03-29", "name": "Easter"}, **HTMX
    )
    assert added.status_code == 200 and "Easter" in added.content.decode()
    assert (
        client.post(f"/sla/calendars/{calendar.pk}/holidays/", {"date": "2027-03-29"}, **HTMX).status_code
        == 409
    )
    assert client.post(f"/sla/calendars/{calendar.pk}/holidays/", {"date": "soon"}).status_code == 422
    week = client.get(f"/sla/calendars/{calendar.pk}/", {"start": "2027-03-22"}, **HTMX).content.decode()
    # Two weeks around the clocks changing on 28 March: Monday 09:00 Berlin is 08:00 UTC before it, and
    # Tuesday after it 07:00 UTC (Easter Monday between them is a holiday).
    assert "Mon 22 Mar 2027" in week and "08:00-16:00" in week and "clocks change" in week
    assert "07:00-10:00, 11:00-15:00" in week and "closed: Easter" in week
    holiday = Holiday.objects.get()
    assert (
        client.post(f"/sla/calendars/{calendar.pk}/holidays/{holiday.pk}/delete/", **HTMX).status_code == 200
    )
    assert not Holiday.objects.exists()
    assert client.post(f"/sla/calendars/{calendar.pk}/holidays/{holiday.pk}/delete/").status_code == 404

    SlaPolicy.objects.create(name="Office", first_response_minutes=60, calendar=calendar)
    in_use = client.post(f"/sla/calendars/{calendar.pk}/delete/")
    assert in_use.status_code == 409 and "Office" in in_use.content.decode()
    SlaPolicy.objects.all().delete()
    assert client.post(f"/sla/calendars/{calendar.pk}/delete/").status_code == 302
    assert not BusinessCalendar.objects.exists()


def test_a_policy_edit_moves_the_open_conversations_due_times(
    client_for, manager, receive, email_channel, django_capture_on_commit_callbacks
):
    policy = SlaPolicy.objects.create(name="E-mail", channel_kind="email", first_response_minutes=60)
    conversation = receive(email="w@example.com", channel=email_channel).conversation
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(manager).post(
            f"/sla/policies/{policy.pk}/",
            {"name": "E-mail", "position": "1", "active": "on", "channel_kind": "email",
             "first_response_minutes": "20", "warn_minutes": "5"},
        )  # fmt: skip
    assert response.status_code == 302
    conversation.refresh_from_db()
    assert conversation.first_response_due_at == conversation.created_at + timedelta(minutes=20)


def test_moments_out_of_reach_are_a_422(client_for, manager, office):
    client = client_for(manager)
    assert client.get("/sla/preview/", {"priority": "2", "at": "9999-12-31T23:00"}).status_code == 422
    assert client.get(f"/sla/calendars/{office.pk}/", {"start": "9999-12-31"}).status_code == 422
