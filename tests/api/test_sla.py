"""Service levels through the API: managers' tokens only, bad input a 4xx with the reason."""

from __future__ import annotations

from datetime import timedelta

import pytest

from firstring.sla.models import BusinessCalendar, Holiday, SlaPolicy

pytestmark = pytest.mark.django_db

OFFICE = {
    "name": "Berlin",
    "time_zone": "Europe/Berlin",
    "hours": {"mon": [["09:00", "17:00"]], "tue": [["09:00", "17:00"]]},
}


def test_agents_tokens_are_refused(as_agent):
    calendar = BusinessCalendar.objects.create(name="C", hours={"mon": [["09:00", "17:00"]]})
    policy = SlaPolicy.objects.create(name="P", first_response_minutes=5)
    for method, path, body in (
        ("get", "/sla/policies", None),
        ("post", "/sla/policies", {"name": "X", "first_response_minutes": 5}),
        ("get", f"/sla/policies/{policy.pk}", None),
        ("put", f"/sla/policies/{policy.pk}", {"name": "X", "first_response_minutes": 5}),
        ("delete", f"/sla/policies/{policy.pk}", None),
        ("post", "/sla/preview", {}),
        ("get", "/sla/calendars", None),
        ("post", "/sla/calendars", OFFICE),
        ("get", f"/sla/calendars/{calendar.pk}", None),
        ("put", f"/sla/calendars/{calendar.pk}", OFFICE),
        ("delete", f"/sla/calendars/{calendar.pk}", None),
        ("post", f"/sla/calendars/{calendar.pk}/holidays", {"date": "2026-12-24"}),
        ("get", f"/sla/calendars/{calendar.pk}/open-hours", None),
    ):
        response = as_agent(method, path, json=body)
        assert response.status_code == 403, (method, path)
        assert response.json() == {"detail": "only managers edit service levels"}
    assert SlaPolicy.objects.get().name == "P" and BusinessCalendar.objects.get().name == "C"


def test_a_manager_manages_calendars_and_policies(
    as_manager, receive, email_channel, django_capture_on_commit_callbacks
):
    created = as_manager("post", "/sla/calendars", json=OFFICE)
    assert created.status_code == 201, created.json()
    calendar = created.json()
    assert calendar["hours"]["mon"] == [["09:00", "17:00"]] and calendar["holidays"] == []

    for hours, message in (
        ({"mon": [["17:00", "09:00"]]}, "closes before it opens"),
        ({"mon": [["09:00", "13:00"], ["12:00", "17:00"]]}, "overlap"),
        ({"fun": [["09:00", "17:00"]]}, "unknown weekday"),
        ({"mon": [["9", "17"]]}, "not a pair of HH:MM"),
        ({}, "open at some time"),
    ):
        bad = as_manager("put", f"/sla/calendars/{calendar['id']}", json={**OFFICE, "hours": hours})
        assert bad.status_code == 422 and message in bad.json()["detail"], hours
    bad_zone = as_manager("post", "/sla/calendars", json={**OFFICE, "name": "Mars", "time_zone": "Mars/Base"})
    assert bad_zone.status_code == 422 and "unknown time zone" in bad_zone.json()["detail"]
    assert as_manager("post", "/sla/calendars", json=OFFICE).status_code == 409
    shape = as_manager("post", "/sla/calendars", json={**OFFICE, "hours": {"mon": [["09:00"]]}})
    assert shape.status_code == 422 and shape.json()["errors"]

    holiday = as_manager(
        "post", f"/sla/calendars/{calendar['id']}/holidays", json={"date": "2027-03-29", "name": "Easter"}
    )
    assert holiday.status_code == 201
    assert (
        as_manager(
            "post", f"/sla/calendars/{calendar['id']}/holidays", json={"date": "2027-03-29"}
        ).status_code
        == 409
    )
    days = as_manager("get", f"/sla/calendars/{calendar['id']}/open-hours?start=2027-03-22&days=9").json()
    assert days[0]["intervals"] == [{"opens_at": "2027-03-22T08:00:00Z", "closes_at": "2027-03-22T16:00:00Z"}]
    assert [d["date"] for d in days if d["clocks_change"]] == ["2027-03-28"]
    assert days[7]["holiday"] == "Easter" and days[7]["intervals"] == []
    assert days[8]["intervals"] == [{"opens_at": "2027-03-30T07:00:00Z", "closes_at": "2027-03-30T15:00:00Z"}]
    far = as_manager("get", f"/sla/calendars/{calendar['id']}/open-hours?start=9999-12-31")
    assert far.status_code == 422

    body = {
        "name": "E-mail",
        "channel_kind": "email",
        "first_response_minutes": 60,
        "calendar_id": calendar["id"],
    }
    policy = as_manager("post", "/sla/policies", json=body)
    assert policy.status_code == 201 and policy.json()["calendar_id"] == calendar["id"]
    assert as_manager("post", "/sla/policies", json={**body, "calendar_id": 999}).status_code == 404
    nothing = as_manager("post", "/sla/policies", json={"name": "Nothing"})
    assert nothing.status_code == 422 and "at least one target" in nothing.json()["detail"]
    assert as_manager("post", "/sla/policies", json={**body, "priority": 7}).status_code == 422
    assert as_manager("post", "/sla/policies", json={**body, "colour": "red"}).status_code == 422
    assert as_manager("get", "/sla/policies").json()["items"][0]["name"] == "E-mail"

    preview = as_manager(
        "post",
        "/sla/preview",
        json={"priority": 2, "channel_kind": "email", "at": "2027-03-22T16:30:00+01:00"},
    ).json()
    assert preview["policy"]["name"] == "E-mail" and preview["passed_over"] == []
    # Half an hour on Monday, the other half on Tuesday from 09:00 Berlin.
    assert preview["first_response_due_at"] == "2027-03-23T08:30:00Z"
    assert as_manager("post", "/sla/preview", json={"at": "9999-01-01T00:00:00Z"}).status_code == 422

    in_use = as_manager("delete", f"/sla/calendars/{calendar['id']}")
    assert in_use.status_code == 409 and "E-mail" in in_use.json()["detail"]

    conversation = receive(email="x@example.com", channel=email_channel).conversation
    policy_id = policy.json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        changed = as_manager(
            "put",
            f"/sla/policies/{policy_id}",
            json={**body, "calendar_id": None, "first_response_minutes": 15},
        )
    assert changed.status_code == 200 and changed.json()["calendar_id"] is None
    conversation.refresh_from_db()
    assert conversation.first_response_due_at == conversation.created_at + timedelta(minutes=15)

    assert as_manager("delete", f"/sla/policies/{policy_id}").status_code == 204
    assert as_manager("get", f"/sla/policies/{policy_id}").status_code == 404
    holiday_id = holiday.json()["id"]
    assert as_manager("delete", f"/sla/calendars/{calendar['id']}/holidays/{holiday_id}").status_code == 204
    assert not Holiday.objects.exists()
    assert as_manager("delete", f"/sla/calendars/{calendar['id']}").status_code == 204
    assert as_manager("get", f"/sla/calendars/{calendar['id']}").status_code == 404
