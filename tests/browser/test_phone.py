"""A call rings in the agent's browser, live, with its screen pop: Twilio's signed webhooks are posted to
the real server, which routes the call and tells the agent's open page; what the caller said is text."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from firstring.channels.models import Channel
from firstring.routing.models import AgentState
from firstring.voice.models import AgentLine
from tests.browser.conftest import sign_in
from tests.test_worker import wait_for
from tests.voice.twilio_voice_peer import ACCOUNT_SID, AUTH_TOKEN, call_sid, params, sign

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_call_rings_with_its_screen_pop_and_the_callers_words_stay_text(
    page, live_url, agent, support_team, settings
):
    settings.SITE_URL = live_url  # the URL Twilio signs
    Channel.objects.create(
        kind="phone",
        slug="hotline",
        name="Hotline",
        team=support_team,
        config={"number": "+12025550100"},
        secrets={"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN},
    )
    AgentLine.objects.create(user=agent, number="+14155550999")
    sign_in(page, live_url, "ana@example.com", "pw-agent-123")
    expect(page.locator("html")).to_have_attribute("data-live", "connected")
    page.select_option("#presence", "available")
    wait_for(
        lambda: AgentState.objects.filter(user=agent, presence="available").exists(),
        timeout=10,
        what="the agent to be available",
    )

    sid = call_sid(1)

    def twilio(name: str, **extra: str) -> None:
        url = f"{live_url}/channels/phone/twilio/hotline/{name}"
        body = params(sid, **extra)
        response = httpx.post(url, data=body, headers={"X-Twilio-Signature": sign(url, body)})
        assert response.status_code == 200, response.text

    twilio("incoming", CallStatus="ringing")
    twilio("menu?step=1", SpeechResult="<img src=x onerror=window.__xss=1>")  # not understood
    twilio("menu?step=2", Digits="0")  # a person: queued, and offered to Ana at once

    pop = page.locator(".offer .screen-pop")
    expect(pop).to_contain_text("New customer · +14155550123", timeout=20_000)
    expect(pop).to_contain_text("Chose: “<img src=x onerror=window.__xss=1>” \u203a agent")
    assert page.evaluate("window.__xss") is None
    assert page.locator(".offer img").count() == 0
