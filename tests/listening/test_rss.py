"""RSS and Atom feeds polled from a real local HTTP server: validators, de-duplication, backoff."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from firstring.listening.models import Mention, Source
from firstring.listening.sources.rss.feeds import feed_poll
from firstring.listening.testing import atom_feed, build_brands, feed_items, rss_feed
from tests.http_peer import Recorded, http_peer
from tests.listening.conftest import T0


@pytest.fixture
def brands():
    return build_brands(6, seed=3)[0]


def _feed_source(url: str, slug: str = "blog", poll_seconds: int = 300) -> Source:
    return Source.objects.create(
        kind="rss", slug=slug, name=slug, config={"url": url, "poll_seconds": poll_seconds}
    )


def test_a_feed_is_stored_then_asked_again_with_its_validators(monitor, brands):
    for brand in brands:
        monitor(brand.query, name=brand.handle)
    items = feed_items(brands=brands, count=12, start=T0)
    body = rss_feed(items)
    etag = '"v1"'
    last_modified = "Tue, 24 Nov 2026 12:00:00 GMT"

    def blog(request: Recorded) -> tuple[int, dict[str, str], bytes]:
        if request.headers.get("If-None-Match") == etag:
            return 304, {"ETag": etag}, b""
        return (
            200,
            {"Content-Type": "application/rss+xml", "ETag": etag, "Last-Modified": last_modified},
            body,
        )

    with http_peer() as peer:
        peer.get_routes["/feed.xml"] = blog
        source = _feed_source(peer.at("/feed.xml"))
        report = feed_poll(source=source)
        assert (report.status, report.entries) == ("stored", 12)
        # Every third item quotes a support tweet to one of the brands; those, and only those, match.
        assert report.stored == 4 == Mention.objects.count()
        mention = Mention.objects.order_by("posted_at").first()
        assert mention.kind == "article" and mention.network == "web"
        assert mention.url == "https://blog.example/posts/0" and mention.language == "en"
        assert mention.text.startswith("Readers write about") and "<p>" not in mention.text
        assert mention.tone in ("negative", "neutral", "positive")
        source.refresh_from_db()
        assert source.state["etag"] == etag and source.state["failures"] == 0

        again = feed_poll(source=source)
        assert again.status == "not due"
        again = feed_poll(source=source, force=True)
        assert again.status == "not modified"
        assert peer.requests[-1].headers["If-None-Match"] == etag
        assert peer.requests[-1].headers["If-Modified-Since"] == last_modified
        assert Mention.objects.count() == 4


def test_the_same_article_in_another_feed_is_one_mention(monitor, brands):
    for brand in brands:
        monitor(brand.query, name=brand.handle)
    items = feed_items(brands=brands, count=6, start=T0)
    with http_peer() as peer:
        peer.get_routes["/rss"] = lambda r: (200, {"Content-Type": "application/rss+xml"}, rss_feed(items))
        # The news site links the same posts without the tracking parameter.
        plain = [type(i)(i.title, i.link.split("?")[0], i.summary, i.published, i.author) for i in items]
        peer.get_routes["/atom"] = lambda r: (200, {"Content-Type": "application/atom+xml"}, atom_feed(plain))
        first = feed_poll(source=_feed_source(peer.at("/rss"), "blog"))
        second = feed_poll(source=_feed_source(peer.at("/atom"), "news"))
    assert first.stored == 2 and second.stored == 0
    assert Mention.objects.count() == 2


@pytest.mark.parametrize(
    ("route", "error"),
    [
        ("/broken", "not a feed"),
        ("/loop", "more than 5 redirects"),
        ("/gone", "HTTP 404"),
    ],
)
def test_broken_feeds_are_recorded_and_backed_off(db, route, error, caplog):
    with http_peer() as peer:
        peer.get_routes["/broken"] = lambda r: (200, {"Content-Type": "text/html"}, b"<html><body>oops")
        peer.get_routes["/loop"] = lambda r: (302, {"Location": "/loop"}, b"")
        source = _feed_source(peer.at(route), poll_seconds=60)
        before = timezone.now()
        report = feed_poll(source=source)
        assert report.status == "failed" and error in report.error
        source.refresh_from_db()
        assert source.state["failures"] == 1 and error in source.state["last_error"]
        # The first failure waits twice the poll interval; the next one four times.
        next_at = datetime.fromisoformat(source.state["next_poll_at"])
        assert timedelta(seconds=119) < next_at - before < timedelta(seconds=125)
        feed_poll(source=source, force=True)
        source.refresh_from_db()
        assert source.state["failures"] == 2
        assert datetime.fromisoformat(source.state["next_poll_at"]) - before > timedelta(seconds=235)
    assert error in caplog.text


def test_a_busy_server_is_asked_again_after_its_retry_after_and_a_redirect_is_followed(monitor, brands):
    monitor(brands[0].query)
    with http_peer() as peer:
        peer.get_routes["/busy"] = lambda r: (503, {"Retry-After": "3600"}, b"")
        busy = _feed_source(peer.at("/busy"), "busy", poll_seconds=60)
        feed_poll(source=busy)
        busy.refresh_from_db()
        assert datetime.fromisoformat(busy.state["next_poll_at"]) - timezone.now() > timedelta(minutes=59)

        items = feed_items(brands=brands[:1], count=3, start=T0)
        peer.get_routes["/old"] = lambda r: (301, {"Location": "/new"}, b"")
        peer.get_routes["/new"] = lambda r: (200, {"Content-Type": "application/rss+xml"}, rss_feed(items))
        moved = _feed_source(peer.at("/old"), "moved")
        assert feed_poll(source=moved).stored == 1
