"""The service-level editor in Chromium: the preview and the holidays change in place (HTMX)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from firstring.sla.models import BusinessCalendar, Holiday, SlaPolicy
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

TRAP = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective));
"""


def test_a_manager_previews_a_policy_and_edits_holidays_in_place(page, live_url, manager):
    office = BusinessCalendar.objects.create(
        name="Berlin office",
        time_zone="Europe/Berlin",
        hours={day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
    )
    SlaPolicy.objects.create(
        name="VIP <b>first</b>", position=1, customer_tier="vip", first_response_minutes=15
    )
    SlaPolicy.objects.create(
        name="E-mail", position=2, channel_kind="email", first_response_minutes=60, calendar=office
    )

    page.add_init_script(TRAP)
    sign_in(page, live_url, manager.email, "pw-manager-123")
    page.click("nav >> text=SLAs")
    page.wait_for_url(f"{live_url}/sla/")
    page.evaluate("window.__sameDocument = true")

    form = page.locator("#sla-preview-form")
    form.locator("[name=channel_kind]").fill("email")
    form.locator("[name=at]").fill("2027-03-22T15:30")  # UTC, the site's zone: 16:30 in Berlin
    form.locator("button[type=submit]").click()
    preview = page.locator("#sla-preview")
    expect(preview.locator(".sla-policy")).to_have_text("E-mail")
    # Half an office hour on Monday, the rest on Tuesday from 09:00 Berlin (08:00 UTC).
    expect(preview).to_contain_text("Tue 23 Mar 2027 08:30")
    expect(preview).to_contain_text("VIP <b>first</b>: customer tier is not vip")  # shown as text
    assert page.evaluate("window.__sameDocument") is True

    page.goto(f"{live_url}/sla/calendars/{office.pk}/")
    page.evaluate("window.__sameDocument = true")
    hours = page.locator("#open-hours-form")
    hours.locator("[name=start]").fill("2027-03-22")
    hours.locator("button[type=submit]").click()
    expect(page.locator("#open-hours .clocks-change")).to_contain_text("Sun 28 Mar 2027")

    holiday = page.locator("#holiday-form")
    holiday.locator("[name=date]").fill("2027-03-29")
    holiday.locator("[name=name]").fill("Easter Monday")
    holiday.locator("button[type=submit]").click()
    expect(page.locator("#holidays")).to_contain_text("Easter Monday")
    expect(page.locator("#open-hours")).to_contain_text("closed: Easter Monday")
    assert Holiday.objects.filter(calendar=office, date="2027-03-29").exists()

    # The same date again: a 409 in the alert area, the list untouched.
    page.locator("#holiday-form [name=date]").fill("2027-03-29")
    page.locator("#holiday-form button[type=submit]").click()
    expect(page.locator("#alerts")).to_contain_text("is a holiday already")

    page.locator("#holidays button", has_text="Remove").click()
    expect(page.locator("#holidays")).to_contain_text("No holidays")
    assert not Holiday.objects.exists()
    assert page.evaluate("window.__sameDocument") is True
    assert page.evaluate("window.__violations") == []
