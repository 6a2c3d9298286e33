"""An offer rings live in the agent's browser, made by a real worker, and accepting opens the conversation."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from firstring.accounts.services import api_token_create
from firstring.conversations.models import Conversation
from firstring.routing.models import AgentState
from tests.browser.conftest import sign_in
from tests.test_worker import wait_for, worker_process

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_an_offer_rings_without_reload_and_accepting_opens_the_conversation(
    page, live_url, agent, admin_user, api_channel
):
    _, token = api_token_create(user=admin_user, name="browser test")
    sign_in(page, live_url, "ana@example.com", "pw-agent-123")
    expect(page.locator("html")).to_have_attribute("data-live", "connected")
    page.select_option("#presence", "available")
    wait_for(
        lambda: AgentState.objects.filter(user=agent, presence="available").exists(),
        timeout=10,
        what="the agent to be available",
    )
    page.evaluate("window.__sameDocument = true")

    # The worker makes the offer; it hands the live notice to the server the browser is connected to.
    with worker_process("db", FIRSTRING_LIVE_FORWARD_URL=f"{live_url}/internal/live/") as (_, log):
        response = httpx.post(
            f"{live_url}/api/v1/inbound",
            headers={"Authorization": f"Bearer {token}"},
            json={
                "external_id": "ring-1",
                "from": {"email": "rita@example.com", "name": "Rita"},
                "text": "Router broken",
            },
        )
        assert response.status_code == 201, response.text
        offer = page.locator(".offer", has_text="Router broken")
        try:
            offer.wait_for(timeout=30_000)
        except Exception:
            pytest.fail(
                "the offer did not ring\n--- worker output ---\n" + log.read_text(errors="replace")[-4000:]
            )
        assert "Rita" in offer.inner_text()
        assert page.evaluate("window.__sameDocument") is True

        offer.locator("button.accept").click()
        conversation_id = response.json()["conversation_id"]
        page.wait_for_url(f"{live_url}/conversations/{conversation_id}/")
    assert Conversation.objects.get(pk=conversation_id).assignee == agent
    expect(page.locator(".offer")).to_have_count(0)
