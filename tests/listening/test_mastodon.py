"""Mastodon against a local server speaking its streaming API (Server-Sent Events) and REST API."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

from firstring.listening.matching import Matcher, compile_monitor
from firstring.listening.models import Mention, Source
from firstring.listening.services import monitor_create
from firstring.listening.sources import MalformedEvent
from firstring.listening.sources.mastodon.read import notifications_once, run
from firstring.listening.sources.mastodon.statuses import parse_status, sse_events
from firstring.listening.testing import build_brands, mastodon_statuses, social_items
from tests.http_peer import Recorded, http_peer
from tests.listening.conftest import T0
from tests.listening.social_peers import JSON, held_open, newer_page, sse

HOST = "social.example"


def _monitors(count: int = 6, seed: int = 7) -> tuple[list[Any], list[Any]]:
    brands, _ = build_brands(count, seed=seed)
    return brands, [monitor_create(actor=None, name=b.handle, query=b.query) for b in brands]


def _expected(statuses: list[dict[str, Any]], monitors: list[Any]) -> set[str]:
    matcher = Matcher([compile_monitor(id=m.pk, version=m.version, query=m.query) for m in monitors])
    found = set()
    for status in statuses:
        post = parse_status(status, instance_host=HOST)
        if post.kind != "repost" and matcher.match(post, "mastodon"):
            found.add(post.external_id)
    return found


def _wait(condition: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not condition():
        time.sleep(0.1)


@pytest.mark.django_db(transaction=True)
def test_the_public_stream_is_read_caught_up_after_a_drop_and_stored_once(caplog):
    brands, monitors = _monitors()
    statuses = mastodon_statuses(social_items(brands=brands, count=240, start=T0, seed=3), host=HOST)
    first, gap, rest = statuses[:100], statuses[100:150], statuses[145:]  # the second stream repeats 5
    done = threading.Event()
    connections: list[Recorded] = []

    def stream(request: Recorded) -> tuple[int, dict[str, str], Any]:
        connections.append(request)
        if len(connections) == 1:
            chunks = [b":thump\n\n", sse("update", first[0])]
            chunks += [b"event: update\ndata: {not json\n\n", sse("update", {"id": "1", "uri": 5})]
            chunks += [b"event: update\ndata: " + b"x" * (1 << 20 + 1) + b"\n\n", sse("delete", "123")]
            chunks += [sse("update", status) for status in first[1:]]
            return 200, {"Content-Type": "text/event-stream"}, iter(chunks)  # then the connection drops
        chunks = [sse("update", status) for status in rest]
        return 200, {"Content-Type": "text/event-stream"}, held_open(chunks, done, beat=b":thump\n\n")

    with http_peer() as peer:
        peer.get_routes["/api/v1/streaming/public"] = stream
        # While the stream was down, the gap's statuses were only in the timeline.
        peer.get_routes["/api/v1/timelines/public"] = lambda r: (
            200, JSON, json.dumps(newer_page(first + gap, r)).encode()
        )  # fmt: skip
        source = Source.objects.create(
            kind="mastodon", slug="masto", name="Mastodon", secrets={"access_token": "tok"},
            config={"instance": peer.at(""), "timeline": "public", "batch_size": 30, "batch_seconds": 0.2},
        )  # fmt: skip
        stop = threading.Event()
        thread = threading.Thread(target=run, args=(source, stop), daemon=True)
        thread.start()
        _wait(lambda: Source.objects.get(pk=source.pk).cursor == statuses[-1]["id"])
        stop.set()
        done.set()
        thread.join(timeout=10)

    assert not thread.is_alive()
    assert Source.objects.get(pk=source.pk).cursor == statuses[-1]["id"]
    paths = [r.path.split("?")[0] for r in peer.requests]
    streams = [i for i, p in enumerate(paths) if p == "/api/v1/streaming/public"]
    timelines = [i for i, p in enumerate(paths) if p == "/api/v1/timelines/public"]
    # The second connection was opened before the catch-up, which paged forward from the cursor.
    assert len(streams) == 2 and streams[0] < streams[1] < timelines[0]
    assert all("min_id=" in peer.requests[i].path for i in timelines)
    assert connections[0].headers["Authorization"] == "Bearer tok"
    expected = _expected(statuses, monitors)
    stored = set(Mention.objects.values_list("external_id", flat=True))
    assert stored == expected and len(expected) > 30
    assert Mention.objects.count() == len(expected)
    boosted = [s for s in statuses if s["reblog"] and s["reblog"]["uri"] in expected]
    assert sum(Mention.objects.values_list("reposts", flat=True)) == len({s["uri"] for s in boosted})
    # Local accounts' handles get the instance's host; remote ones keep theirs.
    handles = set(Mention.objects.values_list("author_handle", flat=True))
    assert all(h.endswith(("@127.0.0.1", "@elsewhere.example")) for h in handles)
    assert any(h.endswith("@127.0.0.1") for h in handles) and any(h.endswith(".example") for h in handles)
    assert not Mention.objects.filter(text__contains="<p>").exists()
    assert Mention.objects.filter(reach__gt=0).exists()
    assert "skipped a malformed event" in caplog.text
    assert "skipped an event larger than the limit" in caplog.text
    assert "the stream ended" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_a_hashtag_timeline_asks_for_its_tag_and_a_refused_stream_is_retried(caplog):
    _monitors(3)
    done = threading.Event()
    answers = iter([(503, {"Retry-After": "1"}, b"")])

    def stream(request: Recorded) -> tuple[int, dict[str, str], Any]:
        answer = next(answers, None)
        if answer is not None:
            return answer
        item = social_items(brands=build_brands(3, seed=7)[0], count=1, start=T0, mention_rate=1.0)[0]
        chunks = [sse("update", mastodon_statuses([item], host=HOST)[0])]
        return 200, {"Content-Type": "text/event-stream"}, held_open(chunks, done, beat=b":thump\n\n")

    with http_peer() as peer:
        peer.get_routes["/api/v1/streaming/hashtag"] = stream
        source = Source.objects.create(
            kind="mastodon", slug="tag", name="Tag",
            config={"instance": peer.at(""), "timeline": "hashtag", "tag": "#acme", "batch_seconds": 0.1},
        )  # fmt: skip
        stop = threading.Event()
        thread = threading.Thread(target=run, args=(source, stop), daemon=True)
        thread.start()
        _wait(lambda: Mention.objects.exists())
        stop.set()
        done.set()
        thread.join(timeout=10)
    assert Mention.objects.count() == 1
    assert [r.query["tag"] for r in peer.requests] == [["acme"], ["acme"]]
    assert "the streaming API answered HTTP 503; retrying in 1 s" in caplog.text


def _notification(number: int, status: dict[str, Any], kind: str = "mention") -> dict[str, Any]:
    return {"id": str(5000 + number), "type": kind, "created_at": status["created_at"],
            "account": status["account"], "status": status}  # fmt: skip


def test_notifications_are_polled_from_the_saved_cursor(db, caplog):
    brands, monitors = _monitors()
    items = social_items(brands=brands, count=60, start=T0, mention_rate=0.9, boost_rate=0, seed=4)
    statuses = mastodon_statuses(items, host=HOST)
    notifications = [_notification(n, s) for n, s in enumerate(statuses)]
    notifications.append(_notification(99, statuses[0], kind="favourite"))
    notifications.append({"id": "5100", "type": "mention", "status": {"id": "nope"}})  # malformed
    shown: list[dict[str, Any]] = notifications[:10]

    def answer(request: Recorded) -> tuple[int, dict[str, str], bytes]:
        assert request.headers["Authorization"] == "Bearer tok"
        assert request.query["types[]"] == ["mention"]
        return 200, JSON, json.dumps(newer_page(shown, request)).encode()

    with http_peer() as peer:
        peer.get_routes["/api/v1/notifications"] = answer
        source = Source.objects.create(
            kind="mastodon", slug="brand", name="Brand", secrets={"access_token": "tok"},
            config={"instance": peer.at(""), "timeline": "notifications"},
        )  # fmt: skip
        assert notifications_once(source, threading.Event()) == 60.0
        assert source.cursor == "5009" == Source.objects.get(pk=source.pk).cursor
        assert Mention.objects.count() == len(_expected(statuses[:10], monitors))
        shown[:] = notifications  # 52 more: two pages of 40 and 12 after the cursor
        notifications_once(source, threading.Event())
        assert [r.query.get("min_id") for r in peer.requests] == [None, ["5009"], ["5049"]]
    assert Source.objects.get(pk=source.pk).cursor == "5100"
    assert set(Mention.objects.values_list("external_id", flat=True)) == _expected(statuses, monitors)
    assert "skipped a malformed status" in caplog.text


def test_status_html_becomes_text_and_bad_statuses_are_refused():
    item = social_items(brands=build_brands(2)[0], count=1, start=T0, mention_rate=1.0)[0]
    status = mastodon_statuses([item], host=HOST)[0]
    status["content"] = (
        '<p>Hi <span class="h-card"><a href="https://x/@acme" class="u-url mention">@<span>acme</span></a>'
        "</span> &lt;b&gt; broken</p><p>again<script>alert(1)</script></p>"
    )
    status["spoiler_text"] = "rant"
    post = parse_status(status, instance_host=HOST)
    assert post.text == "rant\n\nHi @acme <b> broken again"
    remote = item.author % 3 == 0
    assert post.author_handle == f"user{item.author}@{'elsewhere.example' if remote else HOST}"
    for bad in [[], {"id": "x"}, {**status, "created_at": "soon"}, {**status, "content": "x" * 100_000},
                {**status, "account": {"acct": ""}}, {**status, "reblog": {"uri": 5}}]:  # fmt: skip
        with pytest.raises(MalformedEvent):
            parse_status(bad, instance_host=HOST)
    events = list(sse_events([b"event: update", b"data: {}", b"", b":thump", b"data: a", b"data: b", b""]))
    assert [(e.event, e.data) for e in events] == [("update", "{}"), ("", ""), ("message", "a\nb")]
