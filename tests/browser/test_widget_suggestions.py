"""The chat widget on another site offers help-center answers before a visitor's first question goes
to an agent; opening one is counted, and "send to an agent" still sends it."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from firstring.channels.models import Channel
from firstring.knowledge.models import Article, SuggestionOpen
from tests.browser.test_webchat import shop  # noqa: F401 (fixture)
from tests.knowledge.conftest import category, help_center, publish, section  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_the_widget_suggests_articles_before_the_first_question_reaches_an_agent(
    page,
    live_url,
    shop,  # noqa: F811
    support_team,
    help_center,  # noqa: F811
    publish,  # noqa: F811
    settings,
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    chat = Channel.objects.create(
        kind="chat", slug="shop-chat", name="Shop chat", team=support_team, config={"allowed_origins": [shop]}
    )
    help_center.contact_channels.add(chat)
    refund = publish("Get a refund", "Refunds arrive within five days. Ask in your account.")
    publish("Refund override codes", "Agents only.", visibility=Article.Visibility.INTERNAL)

    page.goto(f"{shop}/")
    page.click("#firstring-chat .launcher")
    expect(page.locator("#firstring-chat")).to_have_attribute("data-state", "connected")
    # Sent at once, the first question is held back while the help center is asked.
    page.fill("#firstring-chat textarea", "How do I get a refund for my order?")
    page.keyboard.press("Enter")
    tips = page.locator("#firstring-chat .tips")
    expect(tips).to_be_visible()
    link = tips.locator("a", has_text="Get a refund")
    expect(link).to_have_attribute("href", f"{live_url}/help/en/articles/{refund.article_id}-get-a-refund/")
    expect(tips.locator("li")).to_have_count(1)  # never the internal article
    expect(tips.locator("small")).to_have_text("Refunds arrive within five days. Ask in your account.")
    expect(page.locator("#firstring-chat .m.visitor")).to_have_count(0)

    with page.context.expect_page() as opened:
        link.click()
    article = opened.value
    article.wait_for_load_state()
    assert "Get a refund" in article.title()
    article.close()
    deadline = time.monotonic() + 5
    while not SuggestionOpen.objects.filter(translation=refund, count=1).exists():
        assert time.monotonic() < deadline, "the opened suggestion was not counted"
        time.sleep(0.1)

    # Still need help: the question goes to an agent after all, and suggestions stop.
    page.click("#firstring-chat .agent")
    # Once (a cold server, run first) the ack took over 5 s; 15 s leaves room without hiding a hang.
    expect(page.locator("#firstring-chat .m.visitor:not(.pending) .b")).to_have_text(
        "How do I get a refund for my order?", timeout=15_000
    )
    expect(tips).to_be_hidden()
    page.fill("#firstring-chat textarea", "And another refund question")
    page.wait_for_timeout(800)
    expect(tips).to_be_hidden()
