"""An agent signs in, opens a conversation with the keyboard, replies, and sees a new message arrive live."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from firstring.accounts.services import api_token_create
from tests.browser.conftest import sign_in

# Committed data (the server is another thread); serialized_rollback restores the migrations' rows
# (the default API channel) that flushing after each test removes.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_reply_and_live_message(page, live_url, agent, admin_user, receive):
    conversation = receive(email="nina@example.com", text="My router blinks red", name="Nina").conversation
    _, token = api_token_create(user=admin_user, name="browser test")

    sign_in(page, live_url, "ana@example.com", "pw-agent-123")
    assert page.locator("#inbox-list").inner_text().count("My router blinks red") == 1

    # Keyboard: j selects the first row, Enter opens it.
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_url}/conversations/{conversation.pk}/")
    expect(page.locator("html")).to_have_attribute("data-live", "connected")

    # r focuses the reply box; the reply shows in the timeline, queued for delivery.
    page.keyboard.press("r")
    page.keyboard.type("Please restart it once.")
    page.click("#reply-form button[type=submit]")
    reply = page.locator("#timeline .msg-outbound", has_text="Please restart it once.")
    reply.wait_for()
    assert "Queued" in reply.inner_text()
    assert page.input_value("#reply-text") == ""

    # A message pushed through the API over real HTTP appears without a reload.
    page.evaluate("window.__sameDocument = true")
    response = httpx.post(
        f"{live_url}/api/v1/inbound",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "channel": "api",
            "external_id": "live-1",
            "from": {"email": "nina@example.com"},
            "text": "Done, still red",
        },
    )
    assert response.status_code == 201, response.text
    assert response.json()["conversation_id"] == conversation.pk
    page.locator("#timeline .msg-inbound", has_text="Done, still red").wait_for()
    assert page.evaluate("window.__sameDocument") is True


def test_inbox_filters_in_place_and_shows_new_conversations_live(page, live_url, agent, admin_user, receive):
    receive(email="olga@example.com", text="Billing is wrong", language="de")
    receive(email="piet@example.com", text="Cannot log in")
    _, token = api_token_create(user=admin_user, name="browser test")
    sign_in(page, live_url, "ana@example.com", "pw-agent-123")
    page.evaluate("window.__sameDocument = true")

    # "/" focuses the search; typing filters the list in place and the URL keeps the filter.
    page.keyboard.press("/")
    page.keyboard.type("Billing")
    page.wait_for_url("**q=Billing**")
    expect(page.locator("#inbox-list .row-link")).to_have_count(1)
    assert "Billing is wrong" in page.locator("#inbox-list").inner_text()
    page.fill("#q", "")
    page.select_option("select[name=priority]", "4")
    page.locator("#inbox-list .empty").wait_for()
    page.select_option("select[name=priority]", "")
    expect(page.locator("#inbox-list .row-link")).to_have_count(2)
    expect(page.locator("html")).to_have_attribute("data-live", "connected")

    response = httpx.post(
        f"{live_url}/api/v1/inbound",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "channel": "api",
            "external_id": "new-1",
            "from": {"email": "quinn@example.com"},
            "text": "Brand new",
        },
    )
    assert response.status_code == 201, response.text
    page.locator("#inbox-list .row-link", has_text="Brand new").wait_for()
    expect(page.locator("#count-all_open")).to_have_text("3")
    assert page.evaluate("window.__sameDocument") is True


def test_bad_action_shows_the_error(page, live_url, agent, receive):
    conversation = receive(email="rita@example.com", text="Hello").conversation
    sign_in(page, live_url, "ana@example.com", "pw-agent-123")
    page.goto(f"{live_url}/conversations/{conversation.pk}/")
    page.select_option("#status-select", "snoozed")
    page.click("#actions form:has(#status-select) button[type=submit]")
    alert = page.locator("#alerts .alert-error")
    alert.wait_for()
    assert "Choose until when to snooze" in alert.inner_text()
    # The panel is still there and still works.
    page.select_option("#priority-select", "3")
    page.click("#actions form:has(#priority-select) button[type=submit]")
    page.locator("#timeline .event", has_text="changed the priority from normal to high").wait_for()
    expect(page.locator("#alerts")).to_have_text("")
