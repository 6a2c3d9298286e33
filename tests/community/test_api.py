"""The community API: public reads show what the help center shows; staff tokens write and moderate."""

from __future__ import annotations

from django.test import Client

from firstring.community.models import Category, Thread
from firstring.community.services import answer_create, post_hide, thread_create
from firstring.knowledge.models import HelpCenter


def _ask(help_center, author, title="How do I reset my password?", **kw):
    return thread_create(
        help_center=help_center, author=author, title=title, body=f"About {title}", language="en", **kw
    )


def _public(path: str, **extra):
    return Client().get(f"/api/v1/community{path}", **extra)


def test_anyone_reads_visible_threads_and_answers_and_nothing_private(help_center, alice, bob, agent):
    thread = _ask(help_center, alice, title="Charged twice this month")
    answer_create(thread=thread, author=bob, body="Ask for a **refund** in Billing.")
    spam = answer_create(thread=thread, author=bob, body="Cheap watches here")
    post_hide(post=spam, actor=agent, reason="spam")
    answer_create(thread=thread, author=agent, body="We refunded it.")
    hidden = _ask(help_center, bob, title="Secret hidden thread")
    post_hide(post=hidden.posts.get(), actor=agent)

    listed = _public(f"/threads?help_center_id={help_center.pk}")
    assert listed.status_code == 200
    assert [t["title"] for t in listed.json()["items"]] == ["Charged twice this month"]
    item = listed.json()["items"][0]
    assert item["url"] == f"/help/en/community/t/{thread.pk}/" and item["category"]["slug"] == "general"

    detail = _public(f"/threads/{thread.pk}").json()
    bodies = [p["body"] for p in detail["posts"]]
    assert bodies == ["About Charged twice this month", "Ask for a **refund** in Billing.", "We refunded it."]
    assert "<strong>refund</strong>" in detail["posts"][1]["body_html"]
    assert detail["posts"][2]["author"] == {
        "staff": True,
        "name": agent.name,
        "member_id": None,
        "user_id": None,
    }
    text = listed.content.decode() + _public(f"/threads/{thread.pk}").content.decode()
    for private in ("alice@example.com", "Alice Archer", "bob@example.com", "Cheap watches", agent.email):
        assert private not in text
    assert _public(f"/threads/{hidden.pk}").status_code == 404
    assert _public(f"/threads/{thread.pk}?include_hidden=true").status_code == 403
    assert _public("/threads/0").status_code == 422 and _public(f"/threads/{2**63}").status_code == 422
    assert _public("/threads?help_center_id=999999").status_code == 404
    assert _public("/threads", HTTP_AUTHORIZATION="Bearer nope").status_code == 401


def test_search_and_categories_and_paging(help_center, alice, bob):
    Category.objects.create(help_center=help_center, slug="general", name="General")
    billing = Category.objects.create(help_center=help_center, slug="billing", name="Billing", position=5)
    refund = _ask(help_center, alice, title="Refund for a double charge", category=billing)
    _ask(help_center, bob, title="Where are my settings?")
    found = _public("/threads?q=refnd").json()["items"]
    assert [t["id"] for t in found] == [refund.pk]
    in_billing = _public(f"/threads?help_center_id={help_center.pk}&category=billing").json()["items"]
    assert [t["id"] for t in in_billing] == [refund.pk]
    assert _public("/threads?category=billing").status_code == 422
    assert _public(f"/threads?help_center_id={help_center.pk}&category=none").status_code == 404
    cats = _public(f"/categories?help_center_id={help_center.pk}").json()
    assert [c["slug"] for c in cats] == ["general", "billing"]
    first = _public("/threads?limit=1").json()
    second = _public(f"/threads?limit=1&cursor={first['next_cursor']}").json()
    assert len(first["items"]) == len(second["items"]) == 1 and first["items"] != second["items"]
    assert _public("/threads?cursor=garbage").status_code == 422


def test_staff_post_answer_and_moderate_and_see_hidden_posts(api, help_center, alice, bob):
    billing = Category.objects.create(help_center=help_center, slug="billing", name="Billing")
    created = api(
        "post",
        "/community/threads",
        json={
            "help_center_id": help_center.pk,
            "kind": "announcement",
            "language": "en",
            "title": "New invoices from May",
            "body": "They look <script>alert(1)</script> different.",
        },
    )
    assert created.status_code == 201, created.content
    announcement = created.json()
    assert announcement["kind"] == "announcement" and announcement["author"]["staff"]
    assert "<script" not in announcement["posts"][0]["body_html"]

    thread = _ask(help_center, alice, title="Charged twice this month")
    answer = api("post", f"/community/threads/{thread.pk}/answers", json={"body": "We are on it."})
    assert answer.status_code == 201 and answer.json()["author"]["staff"]
    reply = answer_create(thread=thread, author=bob, body="Same here, buy cheap watches")
    hidden = api("post", f"/community/posts/{reply.pk}/hide", json={"reason": "spam"}).json()
    assert hidden["hidden"] and hidden["hidden_reason"] == "spam"
    assert "cheap watches" not in _public(f"/threads/{thread.pk}").content.decode()
    staff_view = api("get", f"/community/threads/{thread.pk}?include_hidden=true").json()
    assert [p["hidden"] for p in staff_view["posts"]] == [False, False, True]
    assert staff_view["posts"][2]["author"]["member_id"] == bob.pk

    locked = api("post", f"/community/threads/{thread.pk}/lock").json()
    assert locked["locked"]
    moved = api("post", f"/community/threads/{thread.pk}/move", json={"category_id": billing.pk}).json()
    assert moved["category"]["slug"] == "billing"
    other = HelpCenter.objects.create(name="Other", prefix="other", default_language="en")
    foreign = Category.objects.create(help_center=other, slug="x", name="X")
    assert (
        api("post", f"/community/threads/{thread.pk}/move", json={"category_id": foreign.pk}).status_code
        == 422
    )
    assert (
        api("post", f"/community/threads/{thread.pk}/move", json={"category_id": 10**12}).status_code == 422
    )
    assert api("post", f"/community/threads/{thread.pk}/move", json={"category": 1}).status_code == 422

    gone = api("post", f"/community/threads/{thread.pk}/hide", json={"reason": "duplicate"}).json()
    assert gone["hidden"] and Thread.objects.get(pk=thread.pk).is_hidden
    assert _public(f"/threads/{thread.pk}").status_code == 404
    assert api("get", f"/community/threads/{thread.pk}?include_hidden=true").status_code == 200
    restored = api("post", f"/community/posts/{staff_view['posts'][0]['id']}/restore").json()
    assert not restored["hidden"] and _public(f"/threads/{thread.pk}").status_code == 200

    # Writes need a token.
    anonymous = Client().post(
        f"/api/v1/community/threads/{thread.pk}/answers", '{"body": "x"}', content_type="application/json"
    )
    assert anonymous.status_code == 401
    assert Client().post(f"/api/v1/community/threads/{thread.pk}/lock").status_code == 401
