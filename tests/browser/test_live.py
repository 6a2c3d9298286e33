"""An agent signs in, opens a conversation with the keyboard, replies, and sees a new message arrive live."""

from __future__ import annotations

import httpx
import pytest

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
    page.wait_for_function("document.documentElement.dataset.live === 'connected'")

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
