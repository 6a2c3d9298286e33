"""The help center in Chromium: hostile article content stays inert, drafts and internal articles are
unreachable for visitors, the pages work from the keyboard, and agents insert suggested articles."""

from __future__ import annotations

import httpx
import pytest

from firstring.accounts.services import api_token_create
from firstring.knowledge.models import Category, HelpCenter, Section
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

HOSTILE = """# Hostile **article**

<script>window.__xss=1;alert(1)</script>

<img src=x onerror="window.__xss=2;alert(2)">

[click me](javascript:window.__xss=3;alert(3)) and <javascript:window.__xss=4>

<svg onload=window.__xss=5;alert(5)><use href="#x"/></svg>

![svg](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoNik+PC9zdmc+)

[data link](data:text/html;base64,PHNjcmlwdD5hbGVydCg3KTwvc2NyaXB0Pg==)

<a href="jav&#x09;ascript:window.__xss=8">tabbed</a> <iframe src="javascript:parent.__xss=9"></iframe>

Searchable word: zebracorn.
"""

TRAP = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective));
"""


@pytest.fixture
def center(db):
    help_center = HelpCenter.objects.create(name="Acme Help", prefix="help", phone="+1 555 0100")
    category = Category.objects.create(help_center=help_center, slug="account", name="Account")
    return Section.objects.create(category=category, slug="basics", name="Basics")


def _api(live_url: str, token: str, method: str, path: str, **kwargs):
    response = httpx.request(
        method, f"{live_url}/api/v1{path}", headers={"Authorization": f"Bearer {token}"}, **kwargs
    )
    assert response.status_code in (200, 201), response.text
    return response.json()


def _article(live_url, token, section, title, body, visibility="public", publish=True):
    created = _api(
        live_url,
        token,
        "POST",
        "/articles",
        json={
            "section_id": section.pk,
            "language": "en",
            "title": title,
            "body": body,
            "visibility": visibility,
        },
    )
    if publish:
        _api(live_url, token, "POST", f"/articles/{created['id']}/publish")
    return created


def _inert(page, url: str) -> None:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    for anchor in page.locator("main a").all():
        href = (anchor.get_attribute("href") or "").strip().lower()
        assert not href.startswith(("javascript:", "data:")), (url, href)
    for link in ("click me", "tabbed", "data link"):
        if page.get_by_text(link).count():
            page.get_by_text(link).first.click()
            page.wait_for_load_state("networkidle")
            page.goto(url)
    assert page.evaluate("window.__xss") is None, url
    assert page.evaluate("window.__violations") == [], url
    assert (
        page.locator("main script, main iframe, main svg, main object, main [onerror], main [onload]").count()
        == 0
    )
    assert page.locator("main img[src^='data:image/svg']").count() == 0


def test_hostile_article_renders_inert_and_hidden_articles_stay_hidden(page, live_url, admin_user, center):
    _, token = api_token_create(user=admin_user, name="browser test")
    hostile = _article(live_url, token, center, "Hostile article <script>alert(0)</script>", HOSTILE)
    draft = _article(live_url, token, center, "Secret launch plans", "zebracorn roadmap", publish=False)
    internal = _article(live_url, token, center, "Override codes", "zebracorn 1234", visibility="internal")

    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.add_init_script(TRAP)
    article_url = f"{live_url}/help/en/articles/{hostile['article_id']}/"
    _inert(page, article_url)
    assert "window.__xss=1" in page.locator("main").inner_text()  # shown as text
    assert "Hostile article <script>" in page.title()
    _inert(page, f"{live_url}/help/en/")
    _inert(page, f"{live_url}/help/en/search/?q=zebracorn")
    results = page.locator(".hc-results li")
    assert results.count() == 1 and "Hostile article" in results.inner_text()
    assert dialogs == []

    # Drafts and internal articles: not a page, not in search, not through the API without a token.
    for hidden in (draft, internal):
        response = page.goto(f"{live_url}/help/en/articles/{hidden['article_id']}/")
        assert response.status == 404
        assert httpx.get(f"{live_url}/api/v1/articles/{hidden['id']}").status_code == 401
    page.goto(f"{live_url}/help/en/search/?q=launch+roadmap+override+1234")
    assert page.locator(".hc-results li").count() == 0
    page.goto(f"{live_url}/help/sitemap.xml")
    assert "Secret" not in page.content() and "Override" not in page.content()


def test_keyboard_only_visitor_searches_reads_and_votes(page, live_url, admin_user, center):
    _, token = api_token_create(user=admin_user, name="browser test")
    _article(
        live_url, token, center, "Reset your password", "Choose **Forgot password** on the sign-in page."
    )
    page.goto(f"{live_url}/help/", wait_until="networkidle")
    assert page.url.endswith("/help/en/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.get_by_label("Search the help center").focus()
    page.keyboard.type("pasword")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search/?q=pasword")
    page.get_by_role("link", name="Reset your password").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/articles/*-reset-your-password/")
    assert page.get_by_role("heading", level=1).inner_text() == "Reset your password"
    page.get_by_role("button", name="Yes").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**?voted=yes#feedback")
    assert page.get_by_role("status").inner_text() == "Thank you for your feedback."
    page.goto(f"{live_url}/help/en/contact/")
    items = page.locator(".hc-contact li")
    assert "+1 555 0100" in items.first.inner_text()


def test_agent_inserts_a_suggested_article_into_the_reply(
    page, live_url, admin_user, agent, center, api_channel
):
    _, token = api_token_create(user=admin_user, name="browser test")
    _article(live_url, token, center, "Track your parcel", "Use the tracking link in your shipping e-mail.")
    received = _api(
        live_url,
        token,
        "POST",
        "/inbound",
        json={
            "channel": "api",
            "external_id": "kb-1",
            "from": {"email": "sam@example.com"},
            "text": "Where is my parcel? Tracking shows nothing.",
        },
    )
    sign_in(page, live_url, "ana@example.com", "pw-agent-123")
    page.goto(f"{live_url}/conversations/{received['conversation_id']}/")
    button = page.get_by_role("button", name="Insert a link to Track your parcel into the reply")
    page.get_by_label("Reply to the customer").fill("Hello Sam,")
    button.click()
    value = page.get_by_label("Reply to the customer").input_value()
    assert value.startswith("Hello Sam, Track your parcel: http")
    assert "/help/en/articles/" in value and value.endswith("-track-your-parcel/")
    assert page.evaluate("document.activeElement.id") == "reply-text"
    # Or the answer itself, where the caret is.
    page.get_by_role("button", name="Insert the answer from Track your parcel into the reply").click()
    value = page.get_by_label("Reply to the customer").input_value()
    assert value.endswith("-track-your-parcel/ Use the tracking link in your shipping e-mail.")
