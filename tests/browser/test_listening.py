"""The listening inbox in a real browser: hostile posts run nowhere, a mention becomes a conversation,
and one is answered through its source."""

from __future__ import annotations

import pytest

from firstring.listening.models import Mention, Source
from firstring.listening.pipeline import mentions_ingest
from firstring.listening.services import monitor_create
from firstring.listening.sources.mastodon.statuses import parse_status
from tests.browser.conftest import sign_in
from tests.http_peer import http_peer
from tests.listening.conftest import make_post
from tests.listening.social_peers import JSON

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PAYLOADS = [
    "acme <script>window.__xss=1;alert(1)</script> is awful",
    'acme <img src=x onerror="window.__xss=2;alert(2)"> broke my order',
    'acme "><svg onload=window.__xss=3>',
]


def test_hostile_posts_stay_text_and_a_mention_becomes_a_conversation(page, live_url, agent):
    monitor_create(actor=None, name="Acme <b>", query="acme")
    source = Source.objects.create(kind="bluesky", slug="bsky", name="Bluesky", config={"appview_url": ""})
    mentions_ingest(
        posts=[make_post(text, n=n, followers=10 * n) for n, text in enumerate(PAYLOADS, start=1)],
        source=source,
    )
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, live_url, "ana@example.com", "pw-agent-123")
    page.click("text=Listening")
    page.wait_for_url(f"{live_url}/listening/")
    for payload in PAYLOADS:
        assert page.get_by_text(payload, exact=True).count() == 1
    assert page.evaluate("window.__xss") is None and not dialogs

    page.select_option("select[name=monitor]", label="Acme <b>")
    page.select_option("select[name=tone]", "negative")
    page.click("text=Apply")
    page.wait_for_url("**tone=negative**")
    mention = Mention.objects.get(external_id__endswith="/1")
    page.locator(f"#mention-{mention.pk} >> text=Turn into a conversation").click()
    page.wait_for_url("**/conversations/*/")
    assert page.get_by_text(PAYLOADS[0]).count() >= 1
    assert page.evaluate("window.__xss") is None and not dialogs
    mention.refresh_from_db()
    assert mention.status == "converted" and page.url.endswith(f"/conversations/{mention.conversation_id}/")


def test_a_mastodon_mention_is_answered_privately_from_the_inbox(page, live_url, agent, run_tasks):
    monitor_create(actor=None, name="Acme", query="acme")
    with http_peer() as peer:
        peer.get_routes["/api/v2/search"] = lambda r: (200, JSON, b'{"statuses": [{"id": "777"}]}')
        peer.post_routes["/api/v1/statuses"] = lambda r: (200, JSON, b'{"id": "991"}')
        source = Source.objects.create(
            kind="mastodon", slug="brand", name="Brand on Mastodon", secrets={"access_token": "tok"},
            config={"instance": peer.at(""), "timeline": "notifications"},
        )  # fmt: skip
        status = {
            "id": "5", "uri": "https://social.example/users/ann/statuses/5",
            "created_at": "2026-11-24T12:00:00Z",
            "content": "<p>acme <script>window.__xss=1</script>lost my parcel</p>", "language": "en",
            "account": {"acct": "ann", "display_name": "Ann", "followers_count": 12},
        }  # fmt: skip
        mentions_ingest(posts=[parse_status(status, instance_host="social.example")], source=source)
        mention = Mention.objects.get()
        sign_in(page, live_url, "ana@example.com", "pw-agent-123")
        page.goto(f"{live_url}/listening/")
        form = page.locator(f"#mention-{mention.pk} form.mention-reply")
        form.locator("textarea").fill("So sorry, Ann: sent you a message")
        form.locator("text=Reply privately").click()
        page.wait_for_url("**/conversations/*/")
        assert page.get_by_text("So sorry, Ann: sent you a message").count() >= 1
        run_tasks()
    assert page.evaluate("window.__xss") is None
    assert peer.requests[-1].json()["visibility"] == "direct"
    assert peer.requests[-1].json()["status"] == "@ann@social.example So sorry, Ann: sent you a message"


def test_a_manager_previews_an_edit_then_saves_it(page, live_url, manager):
    acme = monitor_create(actor=None, name="Acme", query="acme")
    monitor_create(actor=None, name="Globex", query="globex")
    source = Source.objects.create(kind="bluesky", slug="bsky", name="Bluesky", config={"appview_url": ""})
    mentions_ingest(
        posts=[
            make_post("acme lost my parcel <img src=x onerror=window.__xss=1>", n=1),
            make_post("acme refund came through", n=2),
            make_post("globex refund never came", n=3),
        ],
        source=source,
    )
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, live_url, "mo@example.com", "pw-manager-123")
    page.goto(f"{live_url}/listening/")
    page.click("text=Monitors")
    page.wait_for_url(f"{live_url}/listening/monitors/")
    page.click("text=Acme")
    page.wait_for_url(f"{live_url}/listening/monitors/{acme.pk}/")

    # A bad query is refused in the page's alert area; the preview stays where it was.
    page.fill("textarea[name=query]", 'refund AND "money')
    page.click("button:has-text('Preview')")
    page.locator("#alerts").get_by_text("unclosed quote at position 12").wait_for()
    assert page.locator("#preview .mention").count() == 0

    page.fill("textarea[name=query]", "refund")
    page.click("button:has-text('Preview')")
    preview = page.locator("#preview")
    preview.get_by_text("would have matched").wait_for()
    assert "would have matched 2 of the last 3" in " ".join(preview.inner_text().split())
    assert preview.get_by_text("globex refund never came").count() == 1
    assert preview.locator(".tag", has_text="new match").count() == 1
    assert preview.get_by_text("acme lost my parcel <img src=x onerror=window.__xss=1>").count() == 1
    assert page.url.endswith(f"/listening/monitors/{acme.pk}/")  # the preview swapped in place
    acme.refresh_from_db()
    assert acme.query == "acme"

    page.click("button:has-text('Save')")
    page.wait_for_url("**?saved=1")
    acme.refresh_from_db()
    assert acme.query == "refund" and acme.version == 2
    assert page.evaluate("window.__xss") is None and not dialogs
