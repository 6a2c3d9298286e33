"""The listening inbox in the web app: triage, escaping, and turning a mention into a conversation."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from django.test import Client
from django.utils import timezone

from firstring.conversations.models import Conversation
from firstring.customers.models import Identity
from firstring.insights.topic_services import topic_create
from firstring.listening.models import Mention
from firstring.listening.pipeline import mentions_ingest
from tests.listening.conftest import make_post


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _mentions(monitor, source):
    acme = monitor("acme", name="Acme")
    globex = monitor("globex", name="Globex")
    mentions_ingest(
        posts=[
            make_post("acme is terrible <script>alert(1)</script> I hate it", n=1, followers=5000),
            make_post("acme is wonderful, thank you!", n=2, followers=3),
            make_post("globex lost my parcel, awful", n=3, followers=150),
        ],
        source=source,
    )
    return acme, globex


def test_the_inbox_lists_filters_and_escapes_mentions(agent, monitor, bluesky_source):
    acme, _ = _mentions(monitor, bluesky_source)
    client = _client(agent)
    page = client.get("/listening/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "@author1.bsky.social" in html and "globex lost my parcel" in html

    def texts(query: str) -> list[str]:
        response = client.get(f"/listening/?{query}")
        assert response.status_code == 200
        return [m.text for m in response.context["rows"]]

    assert texts(f"monitor={acme.pk}&tone=negative") == [
        "acme is terrible <script>alert(1)</script> I hate it"
    ]
    assert len(texts("reach=1000")) == 1 and len(texts("reach=100")) == 2
    assert len(texts("source=bluesky")) == 3 and texts("source=rss") == []
    assert client.get("/listening/?tone=furious").status_code == 422
    assert client.get("/listening/?cursor=garbage").status_code == 422


def test_assign_handle_ignore_and_turn_into_a_conversation(agent, manager, monitor, bluesky_source):
    _mentions(monitor, bluesky_source)
    client = _client(agent)
    angry = Mention.objects.get(external_id__endswith="/1")
    happy = Mention.objects.get(external_id__endswith="/2")

    response = client.post(
        f"/listening/mentions/{angry.pk}/assign/",
        {"assignee": manager.pk, "next": "/listening/?tone=negative"},
    )
    assert response.status_code == 302 and response["Location"] == "/listening/?tone=negative"
    angry.refresh_from_db()
    assert angry.assignee == manager
    # A redirect elsewhere is not followed.
    response = client.post(
        f"/listening/mentions/{happy.pk}/status/", {"status": "handled", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/listening/"
    happy.refresh_from_db()
    assert happy.status == "handled" and happy.handled_by == agent
    client.post(f"/listening/mentions/{happy.pk}/status/", {"status": "ignored"})
    happy.refresh_from_db()
    assert happy.status == "ignored"
    assert client.post(f"/listening/mentions/{happy.pk}/status/", {"status": "converted"}).status_code == 422

    response = client.post(f"/listening/mentions/{angry.pk}/convert/")
    angry.refresh_from_db()
    assert angry.status == "converted" and angry.conversation is not None
    assert response.status_code == 302 and response["Location"] == f"/conversations/{angry.conversation_id}/"
    conversation = Conversation.objects.get(pk=angry.conversation_id)
    identity = Identity.objects.get(customer=conversation.customer)
    assert (identity.kind, identity.network, identity.value) == ("handle", "bluesky", "author1.bsky.social")
    message = conversation.messages.get()
    assert message.text == angry.text
    page = client.get(response["Location"])
    assert page.status_code == 200 and "&lt;script&gt;" in page.content.decode()
    # Converting again changes nothing; a converted mention cannot be marked handled.
    client.post(f"/listening/mentions/{angry.pk}/convert/")
    assert Conversation.objects.count() == 1 and conversation.messages.count() == 1
    assert client.post(f"/listening/mentions/{angry.pk}/status/", {"status": "handled"}).status_code == 409

    # The same author posting again joins the same customer.
    mentions_ingest(
        posts=[make_post("acme still broken", n=1, external_id="at://did:plc:author1/p/9")],
        source=bluesky_source,
    )
    again = Mention.objects.get(text="acme still broken")
    client.post(f"/listening/mentions/{again.pk}/convert/")
    again.refresh_from_db()
    assert Conversation.objects.get(pk=again.conversation_id).customer == conversation.customer


def test_an_alert_page_shows_its_terms_and_samples_escaped(agent, monitor, bluesky_source):
    from datetime import timedelta

    from firstring.listening.models import Alert

    acme, _ = _mentions(monitor, bluesky_source)
    alert = Alert.objects.create(
        monitor=acme, opened_at=Mention.objects.first().posted_at + timedelta(minutes=1), count=9,
        baseline=0.4, z_score=8.6, peak_count=9, top_terms=["<b>refund</b>", "crash"],
    )  # fmt: skip
    alert.samples.set(Mention.objects.filter(tone="negative"))
    client = _client(agent)
    html = client.get(f"/listening/alerts/{alert.pk}/").content.decode()
    assert "&lt;b&gt;refund&lt;/b&gt;" in html and "<b>refund</b>" not in html
    assert "&lt;script&gt;" in html
    assert client.get("/listening/alerts/999/").status_code == 404
    assert "Spike alerts" in client.get("/listening/").content.decode()


def test_signed_out_people_are_sent_to_log_in(db):
    assert Client().get("/listening/").status_code == 302


def test_the_analytics_page_compares_monitors(agent, monitor, bluesky_source):
    acme = monitor("acme", name="Acme <i>")
    globex = monitor("globex", name="Globex")
    now = timezone.now()
    mentions_ingest(
        posts=[
            make_post("acme is broken again, awful", n=1, posted_at=now, followers=900),
            make_post("acme and globex both fine", n=2, posted_at=now - timedelta(days=1), followers=40),
            make_post("globex ok", n=3, posted_at=now, author_handle="=cmd|calc", followers=7),
        ],
        source=bluesky_source,
    )
    client = _client(agent)
    page = client.get("/listening/analytics/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Acme &lt;i&gt;" in html and "Acme <i>" not in html and "50%" in html
    # Server-side SVG charts: volume and tone per monitor, tone bars, volume per source.
    assert html.count('<svg class="chart"') == 4 and "Mentions per day by source" in html
    assert "@author1.bsky.social (900)" in html
    span = page.context["span"]
    assert (span.since, span.until) == (timezone.localdate() - timedelta(days=6), timezone.localdate())
    [stats] = client.get(f"/listening/analytics/?monitor={acme.pk}").context["stats"]
    assert (stats.mentions, stats.share_of_voice) == (2, 1.0)
    assert stats.top_authors == [("author1.bsky.social", 900), ("author2.bsky.social", 40)]

    today = timezone.localdate().isoformat()
    query = f"since={today}&until={today}&monitor={acme.pk}&monitor={globex.pk}"
    [only_acme, only_globex] = client.get(f"/listening/analytics/?{query}").context["stats"]
    assert (only_acme.mentions, only_globex.mentions) == (1, 1)

    export = client.get(f"/listening/analytics/export/daily.csv?{query}")
    assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(export.content.decode())))
    assert rows[0] == ["day", "monitor", "mentions", "negative", "neutral", "positive", "mean_tone"]
    assert sorted((r[0], r[1], r[2]) for r in rows[1:]) == [(today, "Acme <i>", "1"), (today, "Globex", "1")]
    sources = list(
        csv.reader(
            io.StringIO(client.get(f"/listening/analytics/export/sources.csv?{query}").content.decode())
        )
    )
    assert [r[1:3] for r in sources[1:]] == [["bluesky", "2"]]
    authors = client.get(f"/listening/analytics/export/authors.csv?{query}").content.decode()
    # An author handle that a spreadsheet would run is quoted.
    assert "'=cmd|calc" in authors and "\n=cmd" not in authors and ",=cmd" not in authors
    monitors = client.get(f"/listening/analytics/export/monitors.csv?{query}").content.decode()
    assert monitors.splitlines()[0].startswith("monitor,mentions,share_of_voice")

    for bad in (
        "since=2026-13-01",
        f"since={today}&until=2020-01-01",
        "since=2020-01-01&until=2026-11-01",
        "monitor=999",
        "monitor=abc",
    ):
        assert client.get(f"/listening/analytics/?{bad}").status_code == 422, bad
    assert client.get("/listening/analytics/export/a%2Fb.csv").status_code == 404
    assert client.get("/listening/analytics/export/everything.csv").status_code == 422


def test_the_inbox_shows_and_filters_language_topic_and_urgency(agent, manager, monitor, bluesky_source):
    delivery = topic_create(user=manager, name="delivery", examples=["where is my parcel"])
    topic_create(user=manager, name="billing", examples=["I was charged twice"])
    monitor("acme")
    mentions_ingest(
        posts=[
            make_post("acme lost my parcel, I am calling my lawyer about it", n=1),
            make_post("acme charged me twice for one invoice", n=2),
        ],
        source=bluesky_source,
    )
    client = _client(agent)
    html = client.get("/listening/").content.decode()
    assert "urgent: legal" in html and '<span class="language" title="Language">en</span>' in html

    def texts(query: str) -> list[str]:
        response = client.get(f"/listening/?{query}")
        assert response.status_code == 200
        return [m.text for m in response.context["rows"]]

    assert texts("urgent=1") == ["acme lost my parcel, I am calling my lawyer about it"]
    assert texts("urgent=0") == ["acme charged me twice for one invoice"]
    assert texts(f"topic={delivery.pk}") == ["acme lost my parcel, I am calling my lawyer about it"]
    assert client.get("/listening/?urgent=maybe").status_code == 422
    assert client.get("/listening/?topic=-1").status_code == 422


def test_the_analytics_page_without_monitors_or_mentions(agent, monitor):
    client = _client(agent)
    empty = client.get("/listening/analytics/")
    assert empty.status_code == 200 and "No monitors yet." in empty.content.decode()
    monitor("acme")
    quiet = client.get("/listening/analytics/")
    assert quiet.status_code == 200 and quiet.content.decode().count('<svg class="chart"') == 4
    assert client.get("/listening/analytics/export/daily.csv").content.decode().count("\n") == 1
