"""X against a local server speaking the API v2: the filtered stream (NDJSON) and mentions."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from django.utils import timezone

from firstring.listening.matching import Matcher, compile_monitor
from firstring.listening.models import Mention, Monitor, Source
from firstring.listening.services import monitor_create
from firstring.listening.sources import MalformedEvent
from firstring.listening.sources.x.tweets import mentions_poll, parse_line, parse_tweet, run
from firstring.listening.testing import build_brands, social_items, x_tweet
from tests.http_peer import Recorded, http_peer
from tests.listening.conftest import T0
from tests.listening.social_peers import JSON, held_open, x_mentions


def _monitors(count: int = 6) -> list[Monitor]:
    brands, _ = build_brands(count, seed=9)
    return [monitor_create(actor=None, name=b.handle, query=b.query) for b in brands]


def _expected(events: list[dict[str, Any]], monitors: list[Monitor]) -> set[str]:
    matcher = Matcher([compile_monitor(id=m.pk, version=m.version, query=m.query) for m in monitors])
    found = set()
    for event in events:
        post = parse_tweet(event["data"], {u["id"]: u for u in event["includes"]["users"]})
        if post.kind != "repost" and matcher.match(post, "x"):
            found.add(post.external_id)
    return found


OPERATIONAL = (
    b'{"errors": [{"title": "operational-disconnect", "disconnect_type": "UpstreamOperational"}]}\r\n'
)


def _line(event: dict[str, Any]) -> bytes:
    return json.dumps(event).encode() + b"\r\n"


@pytest.mark.django_db(transaction=True)
def test_the_filtered_stream_survives_drops_rate_limits_and_bad_lines(caplog):
    monitors = _monitors()
    events = [
        x_tweet(i) for i in social_items(brands=build_brands(6, seed=9)[0], count=200, start=T0, seed=6)
    ]
    first, second = events[:90], events[85:]  # the second connection repeats five
    done = threading.Event()
    connections: list[Recorded] = []

    def stream(request: Recorded) -> tuple[int, dict[str, str], Any]:
        connections.append(request)
        if len(connections) == 1:
            chunks = [b"\r\n", *[_line(e) for e in first[:10]], b'{"data": {"id": "1"\r\n', b"[1, 2]\r\n"]
            chunks += [b'{"data": {"id": "' + b"9" * (1 << 20) + b'"}}\r\n']
            chunks += [_line(e) for e in first[10:]]
            chunks += [OPERATIONAL]
            return 200, {"Content-Type": "application/json"}, iter(chunks)
        if len(connections) == 2:
            reset = str(int(timezone.now().timestamp()) + 1)
            return 429, {**JSON, "x-rate-limit-reset": reset}, b'{"title": "Too Many Requests"}'
        chunks = [_line(e) for e in second]
        return 200, {"Content-Type": "application/json"}, held_open(chunks, done, beat=b"\r\n")

    with http_peer() as peer:
        peer.get_routes["/2/tweets/search/stream"] = stream
        source = Source.objects.create(
            kind="x", slug="x-stream", name="X", secrets={"bearer_token": "app-token"},
            config={"stream": "filtered", "api_url": peer.at(""), "batch_size": 25, "batch_seconds": 0.2},
        )  # fmt: skip
        stop = threading.Event()
        thread = threading.Thread(target=run, args=(source, stop), daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while (
            time.monotonic() < deadline
            and Source.objects.get(pk=source.pk).cursor != events[-1]["data"]["id"]
        ):
            time.sleep(0.1)
        stop.set()
        done.set()
        thread.join(timeout=10)
    assert not thread.is_alive() and len(connections) == 3
    assert connections[0].headers["Authorization"] == "Bearer app-token"
    assert connections[0].query["expansions"] == ["author_id"]
    assert "public_metrics" in connections[0].query["user.fields"][0]
    expected = _expected(events, monitors)
    assert set(Mention.objects.values_list("external_id", flat=True)) == expected and len(expected) > 30
    retweeted = [
        e["data"]["referenced_tweets"][0]["id"] for e in events if e["data"]["text"].startswith("RT ")
    ]
    assert sum(Mention.objects.values_list("reposts", flat=True)) == sum(r in expected for r in retweeted)
    mention = Mention.objects.exclude(kind="reply").first()
    assert (
        mention is not None
        and mention.url == f"https://x.com/{mention.author_handle}/status/{mention.external_id}"
    )
    assert Mention.objects.filter(reach__gt=0).exists()
    for line in ("skipped a malformed event: not JSON", "larger than the limit", "operational-disconnect",
                 "the filtered stream answered HTTP 429", "the stream ended"):  # fmt: skip
        assert line in caplog.text


def test_mentions_are_read_with_since_id_from_the_saved_cursor(db, caplog):
    monitors = _monitors()
    items = social_items(
        brands=build_brands(6, seed=9)[0], count=70, start=T0, mention_rate=0.9, boost_rate=0
    )
    events = [x_tweet(item) for item in items]
    shown = events[:10]
    bad = {"data": {"id": str(int(events[-1]["data"]["id"]) + 1), "text": 5}, "includes": {"users": []}}

    def mentions(request: Recorded) -> tuple[int, dict[str, str], bytes]:
        assert request.headers["Authorization"] == "Bearer app-token"
        return 200, JSON, x_mentions(shown, request)

    with http_peer() as peer:
        peer.get_routes["/2/users/42/mentions"] = mentions
        source = Source.objects.create(
            kind="x", slug="x-mentions", name="Mentions", secrets={"bearer_token": "app-token"},
            config={"stream": "mentions", "user_id": "42", "api_url": peer.at("")},
        )  # fmt: skip
        assert mentions_poll(source=source) == 10
        assert Source.objects.get(pk=source.pk).cursor == events[9]["data"]["id"]
        shown[:] = [*events, bad]
        assert mentions_poll(source=source) == 60  # three pages of 20 since the cursor
        assert mentions_poll(source=source) == 0
    since = [r.query.get("since_id") for r in peer.requests]
    assert since[0] is None and since[1:4] == [[events[9]["data"]["id"]]] * 3
    assert [r.query.get("pagination_token") for r in peer.requests[1:4]] == [None, ["20"], ["40"]]
    assert Source.objects.get(pk=source.pk).cursor == bad["data"]["id"]
    assert set(Mention.objects.values_list("external_id", flat=True)) == _expected(events, monitors)
    assert "skipped a malformed tweet" in caplog.text


def test_tweets_are_parsed_and_bad_ones_refused():
    item = social_items(brands=build_brands(2)[0], count=1, start=T0, mention_rate=1.0)[0]
    event = x_tweet(item)
    post = parse_line(json.dumps(event).encode())
    assert (
        post is not None and post.author_handle == f"user{item.author}" and post.followers == 7 * item.author
    )
    assert parse_line(b"") is None and parse_line(b"\r") is None
    event["data"]["referenced_tweets"] = [{"type": "quoted", "id": "5"}]
    assert parse_tweet(event["data"], {}).kind == "quote"
    for bad in [b"{", b"[]", b'{"data": {"id": "x", "text": "t", "author_id": "1"}}',
                b'{"data": {"id": "1", "text": "t", "author_id": "1", "created_at": "soon"}}',
                json.dumps({"data": {**event["data"], "text": "x" * 20_001}}).encode()]:  # fmt: skip
        with pytest.raises(MalformedEvent):
            parse_line(bad)
