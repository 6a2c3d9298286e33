"""Customer text is inert on every page: no script, no event handler, no javascript: link gets through."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from firstring.conversations.services import conversation_set_tags, identity_split
from tests.web.conftest import HTMX

pytestmark = pytest.mark.django_db

PAYLOADS = [
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=1">',
    '<a href="javascript:window.__xss=1">click</a>',
    "<svg onload=window.__xss=1>",
    '"><iframe srcdoc="<script>parent.__xss=1</script>">',
    "' onmouseover='window.__xss=1",
]
EVIL = " ".join(PAYLOADS)


class ActiveContent(HTMLParser):
    """Collects what could run: inline scripts, on* attributes, javascript: URLs, frames, svgs."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag == "script" and not names.get("src"):
            self.found.append("inline script")
        if tag in ("iframe", "svg", "object", "embed"):
            self.found.append(tag)
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{tag}[{name}]")
            if name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.found.append(f"{tag}[{name}=javascript:]")


def active_content(html: str) -> list[str]:
    parser = ActiveContent()
    parser.feed(html)
    return parser.found


@pytest.fixture
def evil(api, agent):
    body = {
        "channel": "api",
        "external_id": "evil-1",
        "from": {"email": "mallory@example.com", "name": EVIL[:200], "phone": "+14155550199"},
        "subject": EVIL[:255],
        "text": EVIL,
        "html": EVIL,
    }
    response = api("post", "/inbound", json=body)
    assert response.status_code == 201, response.content
    data = response.json()
    from firstring.conversations.models import Conversation

    conversation = Conversation.objects.get(pk=data["conversation_id"])
    conversation_set_tags(conversation=conversation, names=["<b onclick=x>tag</b>"], actor=agent)
    return conversation


def test_no_page_lets_customer_text_run(client_for, agent, evil):
    client = client_for(agent)
    urls = [
        "/",
        "/?q=mallory",
        f"/conversations/{evil.pk}/",
        f"/conversations/{evil.pk}/timeline/",
        f"/customers/{evil.customer_id}/",
        "/customers/?q=mallory",
    ]
    for url in urls:
        for headers in ({}, HTMX):
            response = client.get(url, **headers)
            assert response.status_code == 200, url
            html = response.content.decode()
            assert active_content(html) == [], url
            assert "window.__xss" in html, url  # shown, as text


def test_agent_input_is_inert_too(client_for, agent, evil):
    client = client_for(agent)
    client.post(f"/conversations/{evil.pk}/note/", {"text": EVIL}, **HTMX)
    client.post(f"/conversations/{evil.pk}/reply/", {"text": EVIL}, **HTMX)
    client.post(f"/customers/{evil.customer_id}/", {"name": EVIL[:200], "company": EVIL[:200], "notes": EVIL})
    for url in (f"/conversations/{evil.pk}/", f"/customers/{evil.customer_id}/", "/"):
        assert active_content(client.get(url).content.decode()) == [], url


def test_events_with_customer_text_are_inert(client_for, agent, evil):
    phone = evil.customer.identities.get(kind="phone")
    identity_split(identity=phone, actor=agent, name=EVIL[:200])
    html = client_for(agent).get(f"/conversations/{evil.pk}/").content.decode()
    assert active_content(html) == []


def test_error_messages_are_inert(client_for, agent, evil):
    response = client_for(agent).get("/?view=<script>alert(1)</script>", **HTMX)
    assert response.status_code == 422
    assert active_content(response.content.decode()) == []
