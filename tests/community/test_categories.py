"""Community categories: threads listed by category, asked in one, and moved by moderators."""

from __future__ import annotations

import pytest
from django.test import Client

from firstring.community.models import Category, Thread
from firstring.community.services import category_default, thread_create, thread_move
from firstring.knowledge.models import HelpCenter
from firstring.lib.errors import InvalidInput


def _ask(help_center, author, title="How do I reset my password?", **kw):
    return thread_create(
        help_center=help_center, author=author, title=title, body=f"Please help: {title}", language="en", **kw
    )


@pytest.fixture
def billing(help_center) -> Category:
    return Category.objects.create(
        help_center=help_center, slug="billing", name="Billing", description="Invoices & refunds", position=1
    )


def test_a_thread_without_a_category_goes_to_the_help_centers_first_one(help_center, alice):
    thread = _ask(help_center, alice)
    general = category_default(help_center=help_center)
    assert (thread.category, general.slug, general.name) == (general, "general", "General")
    assert _ask(help_center, alice, title="Another question").category == general
    assert Category.objects.filter(help_center=help_center).count() == 1


def test_threads_are_listed_by_category_in_their_order(help_center, alice, bob, billing):
    general = Category.objects.create(help_center=help_center, slug="general", name="General")
    assert category_default(help_center=help_center) == general, "the first in order"
    paid = _ask(help_center, alice, title="Charged twice this month", category=billing)
    other = _ask(help_center, bob, title="Where are my settings?")

    index = Client().get("/help/en/community/").content.decode()
    assert index.index(">General<") < index.index(">Billing<") and "Invoices &amp; refunds" in index
    assert "Charged twice this month" in index and "Where are my settings?" in index

    page = Client().get("/help/en/community/c/billing/")
    text = page.content.decode()
    assert page.status_code == 200 and "Charged twice this month" in text
    assert "Where are my settings?" not in text
    assert f"/help/en/community/t/{paid.pk}/" in text and f"/t/{other.pk}/" not in text
    assert Client().get("/help/en/community/c/nothing-here/").status_code == 404
    thread_page = Client().get(f"/help/en/community/t/{paid.pk}/").content.decode()
    assert 'href="/help/en/community/c/billing/">Billing</a>' in thread_page


def test_a_member_asks_in_a_category_of_this_help_center_only(sign_in, help_center, billing, alice):
    Category.objects.create(help_center=help_center, slug="general", name="General")
    client = sign_in(Client(), "carla@example.com")
    form = client.get("/help/en/community/ask/?category=billing").content.decode()
    assert '<option value="billing" selected>' in form
    response = client.post(
        "/help/en/community/ask/", {"category": "billing", "title": "Refund please", "body": "Thanks."}
    )
    assert response.status_code == 302
    assert Thread.objects.get(title="Refund please").category == billing
    other = HelpCenter.objects.create(name="Other", prefix="other", default_language="en")
    Category.objects.create(help_center=other, slug="elsewhere", name="Elsewhere")
    refused = client.post(
        "/help/en/community/ask/", {"category": "elsewhere", "title": "Wrong place", "body": "x"}
    )
    assert refused.status_code == 404
    assert (
        client.post("/help/en/community/ask/", {"category": "<b>", "title": "Bad", "body": "x"}).status_code
        == 422
    )
    with pytest.raises(InvalidInput, match="another help center"):
        _ask(help_center, alice, category=Category.objects.get(slug="elsewhere"))


def test_a_moderator_moves_a_thread_to_another_category_of_its_help_center(
    help_center, alice, agent, billing
):
    Category.objects.create(help_center=help_center, slug="general", name="General")
    thread = _ask(help_center, alice, title="Charged twice this month")
    staff = Client()
    staff.force_login(agent)
    page = staff.get(f"/community/threads/{thread.pk}/").content.decode()
    assert f"/community/threads/{thread.pk}/move/" in page

    assert staff.post(f"/community/threads/{thread.pk}/move/", {"category": billing.pk}).status_code == 302
    thread.refresh_from_db()
    assert thread.category == billing
    assert "Charged twice" in Client().get("/help/en/community/c/billing/").content.decode()
    assert "Charged twice" not in Client().get("/help/en/community/c/general/").content.decode()

    other = HelpCenter.objects.create(name="Other", prefix="other", default_language="en")
    foreign = Category.objects.create(help_center=other, slug="x", name="X")
    assert staff.post(f"/community/threads/{thread.pk}/move/", {"category": foreign.pk}).status_code == 422
    assert staff.post(f"/community/threads/{thread.pk}/move/", {"category": "abc"}).status_code == 422
    assert staff.post(f"/community/threads/{thread.pk}/move/", {"category": 2**62}).status_code == 422
    assert Client().post(f"/community/threads/{thread.pk}/move/", {"category": 1}).status_code == 302
    thread.refresh_from_db()
    assert thread.category == billing
    with pytest.raises(InvalidInput):
        thread_move(thread=thread, category=foreign, actor=agent)


def test_the_sitemap_lists_visible_threads_never_hidden_or_merged_ones(help_center, alice, bob, agent):
    from datetime import datetime

    from firstring.community.services import post_hide, thread_merge

    shown = _ask(help_center, alice, title="Charged twice this month")
    Thread.objects.filter(pk=shown.pk).update(last_activity_at=datetime.fromisoformat("2026-03-04T12:00Z"))
    german = thread_create(
        help_center=help_center, author=bob, title="Rechnung doppelt", body="Hilfe", language="de"
    )
    hidden = _ask(help_center, alice, title="Buy cheap watches")
    post_hide(post=hidden.posts.get(), actor=agent)
    merged = _ask(help_center, bob, title="Charged two times")
    thread_merge(thread=merged, into=shown, actor=agent)
    other = HelpCenter.objects.create(name="Other", prefix="other", default_language="en")
    elsewhere = _ask(other, alice, title="In another help center")

    sitemap = Client().get("/help/sitemap.xml").content.decode()
    assert (
        f"<loc>http://testserver/help/en/community/t/{shown.pk}/</loc><lastmod>2026-03-04</lastmod>"
        in sitemap
    )
    assert f"/help/de/community/t/{german.pk}/</loc>" in sitemap
    for absent in (hidden, merged, elsewhere):
        assert f"/community/t/{absent.pk}/<" not in sitemap
    assert (
        f"/other/en/community/t/{elsewhere.pk}/</loc>" in Client().get("/other/sitemap.xml").content.decode()
    )
