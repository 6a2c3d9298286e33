"""The listening inbox in a real browser: hostile posts run nowhere, and a mention becomes a conversation."""

from __future__ import annotations

import pytest

from firstring.listening.models import Mention, Source
from firstring.listening.pipeline import mentions_ingest
from firstring.listening.services import monitor_create
from tests.browser.conftest import sign_in
from tests.listening.conftest import make_post

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
