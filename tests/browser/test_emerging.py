"""Emerging topics in Chromium: a manager finds a login outage no topic covers and names it in one click."""

from __future__ import annotations

import pytest

from firstring.insights.analysis import messages_analyse
from firstring.insights.models import Topic
from firstring.insights.topic_services import topic_create
from tests.browser.conftest import sign_in
from tests.browser.test_insights import TRAP

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

LOGIN = [
    "I can't log in, your login page has been down all morning. Terrible. <img src=x onerror=window.__xss=1>",
    "Login is broken again, I cannot sign in to my account. Awful.",
    "Your login outage is a disgrace, I cannot access my account at all!",
]


def test_a_manager_names_an_emerging_topic(page, live_url, manager, receive):
    topic_create(user=manager, name="delivery")
    for n, text in enumerate(LOGIN):
        received = receive(email=f"l{n}@example.com", text=text, thread=f"l{n}")
        messages_analyse(message_ids=[received.message.pk])

    page.add_init_script(TRAP)
    sign_in(page, live_url, manager.email, "pw-manager-123")
    page.goto(f"{live_url}/insights/")
    page.click("text=Emerging topics")
    page.wait_for_url(f"{live_url}/insights/emerging/")
    assert page.locator(".panel.emerging").count() == 1
    assert page.locator(".panel.emerging li").count() == 3
    page.fill(".panel.emerging input[name=name]", "Login outage")
    page.click("button:has-text('Make it a topic')")
    page.wait_for_url("**/insights/emerging/?days=7&created=*")
    assert page.locator("[role=status]").inner_text().startswith("Topic created")
    assert Topic.objects.filter(name="Login outage").exists()
    assert page.evaluate("window.__xss") is None
    assert page.evaluate("window.__violations") == []
