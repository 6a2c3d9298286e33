"""Hostile customer input pushed through the API runs nowhere: inbox, conversation and customer pages."""

from __future__ import annotations

import httpx
import pytest

from firstring.accounts.services import api_token_create
from tests.browser.conftest import sign_in

# Committed data (the server is another thread); serialized_rollback restores the migrations' rows
# (the default API channel) that flushing after each test removes.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PAYLOADS = [
    "<script>window.__xss=1;alert(1)</script>",
    '<img src=x onerror="window.__xss=2;alert(2)">',
    '<a id="jslink" href="javascript:window.__xss=3;alert(3)">click me</a>',
    "<svg onload=window.__xss=4;alert(4)>",
    '<iframe src="javascript:parent.__xss=5"></iframe>',
    '"><img src=x onerror=window.__xss=6>',
]

# Installed before any page script: a trap for the payloads, and a record of anything the CSP blocked
# (which would mean markup got through escaping and only the CSP stopped it).
TRAP = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective));
"""


def test_payloads_never_run(page, live_url, agent, admin_user, api_channel):
    _, token = api_token_create(user=admin_user, name="browser test")
    ids = {}
    for number, payload in enumerate(PAYLOADS):
        response = httpx.post(
            f"{live_url}/api/v1/inbound",
            headers={"Authorization": f"Bearer {token}"},
            json={
                "channel": "api",
                "external_id": f"xss-{number}",
                "from": {"email": "mallory@example.com", "name": payload[:200]},
                "subject": payload,
                "text": payload,
                "html": payload,
            },
        )
        assert response.status_code in (200, 201), response.text
        ids = response.json()

    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.add_init_script(TRAP)
    sign_in(page, live_url, "ana@example.com", "pw-agent-123")

    urls = [
        f"{live_url}/",
        f"{live_url}/?q=mallory",
        f"{live_url}/conversations/{ids['conversation_id']}/",
        f"{live_url}/customers/{ids['customer_id']}/",
        f"{live_url}/customers/?q=mallory",
    ]
    for url in urls:
        page.goto(url)
        page.wait_for_load_state("networkidle")
        # The payloads are on the page, as text.
        assert "window.__xss" in page.locator("main").inner_text(), url
        page.mouse.move(5, 5)
        for anchor in page.locator("main a").all():
            href = (anchor.get_attribute("href") or "").strip().lower()
            assert not href.startswith("javascript:"), url
        if page.locator("#jslink").count():
            page.locator("#jslink").click()
        assert page.evaluate("window.__xss") is None, url
        assert page.evaluate("window.__violations") == [], url
        assert (
            page.locator("main script, main iframe, main svg, main [onerror], main [onload]").count() == 0
        ), url
    assert dialogs == []
