"""Reddit against a local server speaking its JSON listings and OAuth token endpoint."""

from __future__ import annotations

import base64
import json
import threading
import time
from typing import Any

import pytest

from firstring.listening.matching import Matcher, compile_monitor
from firstring.listening.models import Mention, Monitor, Source
from firstring.listening.services import monitor_create
from firstring.listening.sources import MalformedEvent
from firstring.listening.sources.reddit.listings import listing_poll, parse_thing, run
from firstring.listening.testing import build_brands, reddit_things, social_items
from tests.http_peer import Recorded, http_peer
from tests.listening.conftest import T0
from tests.listening.social_peers import JSON, reddit_listing


def _monitors(count: int = 6) -> list[Any]:
    brands, _ = build_brands(count, seed=8)
    return [monitor_create(actor=None, name=b.handle, query=b.query) for b in brands]


def _expected(things: list[dict[str, Any]], monitors: list[Any]) -> set[str]:
    matcher = Matcher([compile_monitor(id=m.pk, version=m.version, query=m.query) for m in monitors])
    found = set()
    for thing in things:
        _, _, post = parse_thing(thing)
        if post.kind != "repost" and matcher.match(post, "reddit"):
            found.add(post.external_id)
    return found


def test_new_posts_are_read_back_to_the_cursor_with_an_app_token(db):
    monitors = _monitors()
    items = social_items(brands=build_brands(6, seed=8)[0], count=300, start=T0, seed=5)
    things = reddit_things(items)  # newest first
    shown: list[dict[str, Any]] = things[-30:]  # the 30 oldest are there at the first poll
    tokens: list[Recorded] = []

    def token(request: Recorded) -> tuple[int, dict[str, str], bytes]:
        tokens.append(request)
        return (
            200,
            JSON,
            json.dumps({"access_token": "tok", "token_type": "bearer", "expires_in": 86400}).encode(),
        )

    def new(request: Recorded) -> tuple[int, dict[str, str], bytes]:
        if request.headers.get("Authorization") != "bearer tok":
            return 401, JSON, b'{"message": "Unauthorized", "error": 401}'
        return 200, JSON, reddit_listing(shown, request)

    with http_peer() as peer:
        peer.post_routes["/api/v1/access_token"] = token
        peer.get_routes["/r/acme/new.json"] = new
        source = Source.objects.create(
            kind="reddit", slug="r-acme", name="r/acme", secrets={"client_id": "app", "client_secret": "s3"},
            config={"listing": "new", "subreddit": "acme", "api_url": peer.at(""), "auth_url": peer.at("")},
        )  # fmt: skip
        assert listing_poll(source=source) == 30
        newest = things[-30]["data"]
        assert source.cursor == f"{int(newest['created_utc'])}:{newest['name']}"
        assert Source.objects.get(pk=source.pk).cursor == source.cursor
        shown[:] = things  # 270 more: three pages back to the cursor
        assert listing_poll(source=source) == 270
        assert listing_poll(source=source) == 0  # nothing new: one page, nothing stored
    gets = [r for r in peer.requests if r.method == "GET"]
    assert [r.query.get("after") for r in gets[1:4]] == [
        None,
        [things[99]["data"]["name"]],
        [things[199]["data"]["name"]],
    ]
    assert all(r.query["raw_json"] == ["1"] and r.query["limit"] == ["100"] for r in gets)
    # One token for every poll, asked for with the app's credentials.
    assert len(tokens) == 1
    assert tokens[0].headers["Authorization"] == "Basic " + base64.b64encode(b"app:s3").decode()
    assert tokens[0].body == b"grant_type=client_credentials"
    expected = _expected(things, monitors)
    assert set(Mention.objects.values_list("external_id", flat=True)) == expected and len(expected) > 40
    assert Source.objects.get(pk=source.pk).cursor.endswith(things[0]["data"]["name"])
    crossposts = [t["data"]["crosspost_parent"] for t in things if "crosspost_parent" in t["data"]]
    assert (
        sum(Mention.objects.values_list("reposts", flat=True)) == sum(p in expected for p in crossposts) > 0
    )
    assert Mention.objects.filter(kind="reply").exists() and Mention.objects.filter(kind="post").exists()


def test_search_and_comment_listings_ask_reddit_the_documented_way(db):
    _monitors(2)
    with http_peer() as peer:
        peer.get_routes["/r/acme+beta/search.json"] = lambda r: (200, JSON, reddit_listing([], r))
        peer.get_routes["/r/acme/comments.json"] = lambda r: (200, JSON, reddit_listing([], r))
        search = Source.objects.create(
            kind="reddit", slug="search", name="search",
            config={"listing": "search", "query": "acme refund", "subreddit": "acme+beta",
                    "api_url": peer.at("")},
        )  # fmt: skip
        comments = Source.objects.create(
            kind="reddit", slug="comments", name="comments",
            config={"listing": "comments", "subreddit": "acme", "api_url": peer.at("")},
        )  # fmt: skip
        assert listing_poll(source=search) == 0 and listing_poll(source=comments) == 0
    assert peer.requests[0].query["q"] == ["acme refund"]
    assert peer.requests[0].query["sort"] == ["new"] and peer.requests[0].query["restrict_sr"] == ["1"]
    assert "Authorization" not in peer.requests[0].headers  # no credentials: the public JSON
    assert peer.requests[1].path.startswith("/r/acme/comments.json?")


@pytest.mark.django_db(transaction=True)
def test_rate_limits_and_broken_answers_are_waited_out_and_bad_things_skipped(caplog):
    _monitors(6)
    items = social_items(
        brands=build_brands(6, seed=8)[0], count=20, start=T0, mention_rate=1.0, boost_rate=0
    )
    things = reddit_things(items)
    things.insert(3, {"kind": "t3", "data": {"name": "t3_bad"}})
    things.insert(
        5, {"kind": "t3", "data": {**things[6]["data"], "name": "t3_long", "selftext": "x" * 30_000}}
    )
    answers = [
        (429, {"X-Ratelimit-Reset": "1"}, b'{"message": "Too Many Requests", "error": 429}'),
        (502, {"Content-Type": "text/html"}, b"<html>bad gateway</html>"),
        (200, JSON, b"<html>not json</html>"),
    ]

    def new(request: Recorded) -> tuple[int, dict[str, str], bytes]:
        return answers.pop(0) if answers else (200, JSON, reddit_listing(things, request))

    with http_peer() as peer:
        peer.get_routes["/r/acme/new.json"] = new
        source = Source.objects.create(
            kind="reddit", slug="r-acme", name="r/acme",
            config={"listing": "new", "subreddit": "acme", "api_url": peer.at(""), "poll_seconds": 60},
        )  # fmt: skip
        stop = threading.Event()
        thread = threading.Thread(target=run, args=(source, stop), daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not Source.objects.get(pk=source.pk).cursor:
            time.sleep(0.1)
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive() and len(peer.requests) == 4
    good = [t for t in things if t["data"]["name"] not in ("t3_bad", "t3_long")]
    assert Mention.objects.count() == len(_expected(good, list(Monitor.objects.all()))) > 5
    for line in ("answered HTTP 429", "answered HTTP 502", "not JSON", "skipped a malformed thing"):
        assert line in caplog.text
    assert "text longer than 20000 characters" in caplog.text


def test_a_link_post_is_keyed_by_its_link_and_bad_things_are_refused():
    item = social_items(brands=build_brands(2)[0], count=1, start=T0, mention_rate=1.0)[0]
    thing = reddit_things([item])[0]
    thing["data"].update(is_self=False, url="https://news.example/story?utm_source=reddit")
    _, _, post = parse_thing(thing)
    assert post.link == "https://news.example/story" and post.dedupe_key == "link:https://news.example/story"
    assert post.url.startswith("https://www.reddit.com/r/acme/comments/")
    assert post.author_handle == f"user{item.author}"
    for bad in [[], {"kind": "t5", "data": {}}, {"kind": "t3"},
                {"kind": "t3", "data": {**thing["data"], "name": "x"}},
                {"kind": "t3", "data": {**thing["data"], "created_utc": "now"}},
                {"kind": "t3", "data": {**thing["data"], "author": None}}]:  # fmt: skip
        with pytest.raises(MalformedEvent):
            parse_thing(bad)
