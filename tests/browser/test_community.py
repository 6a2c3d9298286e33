"""The community in Chromium: a customer signs in by the e-mailed link, asks with hostile Markdown
that stays inert on the thread page and in search, and sees only their own conversations."""

from __future__ import annotations

import pytest
from django.core import mail

from firstring.community.models import Thread
from firstring.knowledge.models import HelpCenter
from tests.browser.test_help_center import HOSTILE, TRAP, _inert

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _sign_in(page, live_url: str, email: str, run_tasks) -> None:
    mail.outbox.clear()
    page.goto(f"{live_url}/help/en/signin/")
    page.get_by_label("Your e-mail address").fill(email)
    page.get_by_role("button", name="Send me a link").click()
    page.get_by_role("heading", name="Check your e-mail").wait_for()
    run_tasks()
    link = next(line for line in mail.outbox[-1].body.splitlines() if "/signin/" in line)
    page.goto(link)
    page.get_by_role("button", name="Sign in to Acme Help").click()
    page.wait_for_url("**/help/en/me/conversations/")


def test_a_customer_signs_in_asks_with_hostile_markdown_and_sees_only_their_conversations(
    page, browser, live_url, receive, run_tasks
):
    HelpCenter.objects.create(name="Acme Help", prefix="help")
    receive(email="carla@example.com", text="My parcel never came.", subject="Lost parcel")
    receive(email="dan@example.com", text="Dan's order 4711", subject="Dan's private order")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.add_init_script(TRAP)

    _sign_in(page, live_url, "carla@example.com", run_tasks)
    mine = page.locator("main table").inner_text()
    assert "Lost parcel" in mine and "Open" in mine and "Dan" not in mine

    page.goto(f"{live_url}/help/en/community/ask/")
    page.get_by_label("Title").fill("Hostile question <script>alert(0)</script>")
    page.get_by_label("Your question (Markdown)").fill(HOSTILE)
    page.get_by_role("button", name="Post the question").click()
    page.wait_for_url("**/help/en/community/t/*/")
    thread = Thread.objects.get()
    _inert(page, f"{live_url}/help/en/community/t/{thread.pk}/")
    assert "window.__xss=1" in page.locator("main").inner_text()  # shown as text
    assert "Hostile question <script>" in page.title()
    _inert(page, f"{live_url}/help/en/community/")
    _inert(page, f"{live_url}/help/en/search/?q=zebracorn")
    assert "Hostile question" in page.locator(".hc-results li").inner_text()
    assert dialogs == []

    # Another customer, in a browser of their own, sees their own conversation and not Carla's.
    other = browser.new_context().new_page()
    _sign_in(other, live_url, "dan@example.com", run_tasks)
    theirs = other.locator("main table").inner_text()
    assert "Dan's private order" in theirs and "Lost parcel" not in theirs
    carla_conversation = Thread.objects.get().author_member.customer.conversations.get()
    response = other.goto(f"{live_url}/help/en/me/conversations/{carla_conversation.pk}/")
    assert response.status == 404
    other.context.close()


def test_an_agent_posts_a_resolved_conversations_answer_anonymised_with_a_preview(
    page, live_url, receive, agent, email_channel
):
    from firstring.conversations.services import conversation_set_status, reply_send
    from tests.browser.conftest import sign_in

    HelpCenter.objects.create(name="Acme Help", prefix="help")
    conversation = receive(
        channel=email_channel,
        email="carla@example.com",
        name="Carla Customer",
        subject="Parcel 55123 lost",
        text="I'm Carla Customer, my parcel 55123 never came. Call me on +49 151 12345678.",
    ).conversation
    reply_send(conversation=conversation, author=agent, text="Hello Carla, we sent parcel 55123 again.")
    conversation_set_status(conversation=conversation, status="resolved", actor=agent)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.add_init_script(TRAP)

    sign_in(page, live_url, agent.email, "pw-agent-123")
    page.goto(f"{live_url}/conversations/{conversation.pk}/")
    page.get_by_role("link", name="Post the answer to the community").click()
    question = page.get_by_label("Question (Markdown)")
    answer = page.get_by_label("Answer (Markdown)")
    drafted = question.input_value() + answer.input_value() + page.get_by_label("Title").input_value()
    for private in ("Carla", "55123", "12345678"):
        assert private not in drafted
    assert page.get_by_role("button", name="Post to the community").count() == 0  # preview first

    answer.fill("Hello Carla, here is what helped.\n\n" + HOSTILE)
    page.get_by_role("button", name="Preview").click()
    preview = page.locator(".publish-preview")
    preview.wait_for()
    assert "window.__xss=1" in preview.inner_text() and "Carla" not in preview.inner_text()
    assert page.evaluate("window.__xss") is None and dialogs == []
    page.get_by_role("button", name="Post to the community").click()
    page.wait_for_url("**/community/threads/*/")
    thread = Thread.objects.get()
    _inert(page, f"{live_url}/help/en/community/t/{thread.pk}/")
    shown = page.locator("main").inner_text()
    assert "here is what helped" in shown and "Carla" not in shown and "55123" not in shown
    assert dialogs == []
