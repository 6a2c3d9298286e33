"""A shop's page on another origin embeds the chat widget; a visitor and an agent talk, live, both ways."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from firstring.channels.models import Channel
from firstring.conversations.models import Conversation
from firstring.routing.services.offers import presence_set
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SHOP_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Shop</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><h1>A shop on another site</h1>
<script src="{firstring}/channels/webchat/widget.js" data-channel="shop-chat" async></script></body></html>"""


@pytest.fixture
def shop(live_url: str) -> Iterator[str]:
    """A second loopback server, on another origin (localhost, another port), serving the shop's page."""
    page = SHOP_PAGE.format(firstring=live_url).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_visitor_on_another_site_chats_with_an_agent(
    browser, page, live_url, shop, agent, support_team, settings
):
    # Deliveries run as soon as they are queued, in the server (no worker runs in the browser tests).
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
            "QUEUES": settings.TASK_QUEUES,
        }
    }
    Channel.objects.create(
        kind="chat",
        slug="shop-chat",
        name="Shop chat",
        team=support_team,
        config={"allowed_origins": [shop], "greeting": "Welcome to the shop!"},
    )
    presence_set(user=agent, presence="available")

    # The visitor, on the shop's page, opens the widget and writes.
    visitor = page
    visitor.set_viewport_size({"width": 390, "height": 800})  # a phone
    visitor.goto(f"{shop}/")
    visitor.click("#firstring-chat .launcher")
    expect(visitor.locator("#firstring-chat .greeting")).to_have_text("Welcome to the shop!")
    expect(visitor.locator("#firstring-chat")).to_have_attribute("data-state", "connected")
    panel = visitor.locator("#firstring-chat .panel").bounding_box()
    assert panel is not None and panel["width"] == 390  # full screen on a phone
    visitor.fill("#firstring-chat textarea", "Do you ship to Iceland?")
    visitor.keyboard.press("Enter")
    expect(visitor.locator("#firstring-chat .m.visitor:not(.pending) .b")).to_have_text(
        "Do you ship to Iceland?"
    )

    # The agent, in a browser context of their own, sees it arrive and answers in the agent app.
    agent_context = browser.new_context()
    agent_context.set_default_timeout(10_000)
    agent_page = agent_context.new_page()
    sign_in(agent_page, live_url, "ana@example.com", "pw-agent-123")
    conversation = Conversation.objects.get(channel__slug="shop-chat")
    agent_page.goto(f"{live_url}/conversations/{conversation.pk}/")
    expect(agent_page.locator("html")).to_have_attribute("data-live", "connected")
    expect(agent_page.locator("#timeline .msg-inbound")).to_contain_text("Do you ship to Iceland?")

    # Typing shows on both sides.
    expect(agent_page.locator("html")).to_have_attribute("data-watching", str(conversation.pk))
    # The widget tells at most every two seconds (it told when the first message was typed): keep
    # typing, as a visitor does, until the agent's page shows it.
    customer_typing = agent_page.locator("#customer-typing")
    for _ in range(40):
        visitor.type("#firstring-chat textarea", "H")
        if customer_typing.is_visible():
            break
        agent_page.wait_for_timeout(150)
    expect(customer_typing).to_be_visible()
    agent_page.type("#reply-text", "Yes, in three days.")
    expect(visitor.locator("#firstring-chat .typing")).to_have_text("Ana Agent is writing…")
    agent_page.click("#reply-form button[type=submit]")

    # The reply reaches the visitor live, with the agent's name.
    reply = visitor.locator("#firstring-chat .m.agent")
    expect(reply.locator(".b")).to_have_text("Yes, in three days.")
    expect(reply.locator(".who")).to_have_text("Ana Agent")
    expect(agent_page.locator("#timeline .msg-outbound .delivery")).to_have_text("Delivered")

    # A file goes up over HTTP from the shop's origin (CORS) and shows on both sides.
    visitor.set_input_files(
        "#firstring-chat input[type=file]",
        files=[{"name": "receipt.txt", "mimeType": "text/plain", "buffer": b"order 42"}],
    )
    expect(visitor.locator("#firstring-chat .m.visitor .f")).to_have_text("📎 receipt.txt (1 KB)")
    expect(agent_page.locator("#timeline .files")).to_contain_text("receipt.txt")

    # A reload keeps the history (the visitor's signed cookie on the shop's site).
    visitor.reload()
    visitor.click("#firstring-chat .launcher")
    expect(visitor.locator("#firstring-chat .m .b")).to_have_text(
        ["Do you ship to Iceland?", "Yes, in three days.", "📎 receipt.txt (1 KB)"]
    )
    assert visitor.evaluate("document.cookie").startswith("firstring_chat_shop-chat=")
    agent_context.close()


def test_the_setup_page_shows_the_tag_and_runs_the_widget_under_the_apps_csp(page, live_url, admin_user):
    Channel.objects.create(
        kind="chat",
        slug="shop-chat",
        name="Shop chat",
        config={"allowed_origins": [live_url], "color": "#16a34a"},
    )
    violations: list[str] = []  # what the policy blocked, not its own warnings
    page.on(
        "console",
        lambda message: violations.append(message.text) if "violates" in message.text else None,
    )
    sign_in(page, live_url, "ada@example.com", "pw-admin-123")
    page.goto(f"{live_url}/channels/webchat/shop-chat/")
    expected = f'<script src="{live_url}/channels/webchat/widget.js" data-channel="shop-chat" async></script>'
    expect(page.locator("#embed-tag")).to_have_text(expected)
    # A first visit connects when the visitor opens the widget.
    launcher = page.locator("#firstring-chat .launcher")
    launcher.click()
    expect(page.locator("#firstring-chat")).to_have_attribute("data-state", "connected")
    expect(page.locator("#firstring-chat .greeting")).to_have_text("Hi! How can we help?")
    # The widget's own styles apply although the page forbids inline styles.
    assert launcher.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(22, 163, 74)"
    assert violations == []


def test_with_nobody_available_a_visitor_leaves_an_address_instead(page, shop, support_team, email_channel):
    Channel.objects.create(
        kind="chat",
        slug="shop-chat",
        name="Shop chat",
        team=support_team,
        config={"allowed_origins": [shop], "offline_channel": email_channel.slug},
    )
    page.goto(f"{shop}/")
    page.click("#firstring-chat .launcher")
    expect(page.locator("#firstring-chat header p")).to_have_text("We are away: leave a message")
    page.fill("#firstring-chat input[name=email]", "Olaf@Example.com")
    page.fill("#firstring-chat textarea", "Please call me about my order.")
    page.click("#firstring-chat .send")
    expect(page.locator("#firstring-chat .note").last).to_have_text("Thank you! We will answer by e-mail.")
    conversation = Conversation.objects.select_related("identity").get(channel=email_channel)
    assert (conversation.identity.kind, conversation.identity.value) == ("email", "olaf@example.com")
    assert conversation.messages.get().text == "Please call me about my order."
