"""The managers' insights page in Chromium: charts drawn, filters applied, a drill-down, no CSP breach."""

from __future__ import annotations

import pytest

from firstring.insights.analysis import messages_analyse
from firstring.insights.rollup import rollup_refresh_stale
from firstring.insights.topic_services import topic_create
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

TRAP = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective));
"""


def test_a_manager_reads_the_dashboard_and_drills_down(page, live_url, manager, receive):
    delivery = topic_create(user=manager, name="delivery")
    topic_create(user=manager, name="billing")
    texts = [
        ("a@example.com", "My parcel never arrived, this is awful <img src=x onerror=window.__xss=1>"),
        ("a@example.com", "Thank you, the parcel came today. Great service!"),
        ("b@example.com", "You charged my card twice, I want my money back"),
    ]
    for email, text in texts:
        received = receive(email=email, text=text, thread=email)
        messages_analyse(message_ids=[received.message.pk])
    rollup_refresh_stale()

    page.add_init_script(TRAP)
    sign_in(page, live_url, manager.email, "pw-manager-123")
    page.click("nav >> text=Insights")
    page.wait_for_url(f"{live_url}/insights/")
    assert page.locator(".figures dd").first.inner_text() == "3"
    # Tone, volume, service-level targets and calls.
    assert page.locator("svg.chart").count() == 4
    assert page.locator(".service-levels dt", has_text="First response on time").count() == 1
    assert page.locator("svg.chart polyline, svg.chart circle").count() >= 1
    assert page.locator("svg.chart rect").count() >= 1
    assert page.locator("table >> text=delivery").count() >= 1

    page.select_option("select[name=topic]", str(delivery.pk))
    page.click("button:has-text('Show')")
    page.wait_for_url(f"**topic={delivery.pk}**")
    assert 1 <= int(page.locator(".figures dd").first.inner_text()) < 3

    page.click(".service-levels a[href*='service=unanswered']")
    page.wait_for_url("**/insights/conversations/**service=unanswered**")
    assert page.locator("h1").inner_text() == "Conversations: not answered yet"
    assert page.locator("tbody tr").count() == 1
    page.go_back()

    page.click(".figures a[href*='tone=improved']")
    page.wait_for_url("**/insights/conversations/**tone=improved**")
    assert page.locator("tbody tr").count() == 1
    assert page.evaluate("window.__xss") is None
    assert page.evaluate("window.__violations") == []
