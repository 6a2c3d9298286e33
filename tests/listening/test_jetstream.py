"""Bluesky through a local Jetstream speaking its wire format: resume after a drop, skip bad events."""

from __future__ import annotations

import json
import threading
import time

import pytest

from firstring.listening.matching import Matcher, compile_monitor
from firstring.listening.models import Mention, MonitorMatch, Source
from firstring.listening.services import monitor_create
from firstring.listening.sources import MalformedEvent
from firstring.listening.sources.bluesky.jetstream import Handles, parse_event, read
from firstring.listening.testing import build_brands, build_replay, jetstream_post
from tests.listening.conftest import T0
from tests.listening.jetstream_server import jetstream_server


def _expected(replay, monitors) -> set[str]:
    """What the matcher makes of the replay on its own: the post ids that must end up stored."""
    matcher = Matcher([compile_monitor(id=m.pk, version=m.version, query=m.query) for m in monitors])
    handles, found = Handles(), set()
    for raw in replay.events:
        try:
            _, post = parse_event(raw, handles)
        except MalformedEvent:
            continue
        if post is not None and post.kind != "repost" and matcher.match(post, "bluesky"):
            found.add(post.external_id)
    return found


def _run_until(source: Source, last_cursor: str, *, timeout: float = 30.0):
    stop = threading.Event()
    box: dict = {}
    thread = threading.Thread(target=lambda: box.setdefault("stats", read(source, stop)), daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if Source.objects.get(pk=source.pk).cursor == last_cursor:
            break
        time.sleep(0.1)
    stop.set()
    thread.join(timeout=10)
    return box.get("stats")


@pytest.mark.django_db(transaction=True)
def test_reads_the_firehose_resumes_after_a_drop_and_stores_each_mention_once(caplog):
    brands, _ = build_brands(8, seed=2)
    monitors = [monitor_create(actor=None, name=b.handle, query=b.query) for b in brands]
    replay = build_replay(
        events=600, brands=brands, start=T0, minutes=10, mention_rate=0.25, seed=5, malformed_rate=0.02
    )
    assert replay.counts["malformed"] > 0 and replay.counts["repost"] > 0
    expected = _expected(replay, monitors)
    last_cursor = max(str(json.loads(e)["time_us"]) for e in replay.events if e.startswith('{"did":"did:'))
    with jetstream_server(replay.events, drop_after=250) as server:
        source = Source.objects.create(
            kind="bluesky", slug="bsky", name="Bluesky",
            config={"url": server.url, "batch_size": 40, "batch_seconds": 0.2, "appview_url": ""},
        )  # fmt: skip
        stats = _run_until(source, last_cursor)

    assert stats is not None and stats.reconnects >= 1
    # The first connection started live; the second resumed from the cursor of the last stored batch.
    assert "cursor=" not in server.paths[0] and "cursor=" in server.paths[1]
    assert "wantedCollections=app.bsky.feed.post" in server.paths[0]
    stored = set(Mention.objects.values_list("external_id", flat=True))
    assert stored == expected and len(stored) > 50
    assert Mention.objects.count() == len(expected)  # nothing twice, though events were sent again
    assert server.sent > len(replay.events)
    assert MonitorMatch.objects.count() >= len(expected)
    assert stats.malformed >= replay.counts["malformed"]
    assert "skipped a malformed event" in caplog.text and "connection lost" in caplog.text


def test_parses_posts_replies_quotes_and_reposts():
    handles = Handles()
    handles.set("did:plc:ann", "ann.bsky.social")
    time_us, post = parse_event(
        jetstream_post(
            did="did:plc:ann", rkey="3k1", time_us=1_700_000_000_000_000, text="Hi @acme", lang="de"
        ),
        handles,
    )
    assert time_us == 1_700_000_000_000_000
    assert post is not None and post.kind == "post" and post.language == "de"
    assert post.external_id == "at://did:plc:ann/app.bsky.feed.post/3k1"
    assert post.url == "https://bsky.app/profile/ann.bsky.social/post/3k1"
    assert post.author_handle == "ann.bsky.social"
    reply = {
        "parent": {"uri": "at://x/app.bsky.feed.post/1", "cid": "c"},
        "root": {"uri": "at://x", "cid": "c"},
    }
    _, post = parse_event(
        jetstream_post(did="did:plc:b", rkey="2", time_us=2, text="re", reply=reply), handles
    )
    assert post is not None and post.kind == "reply"
    embed = {"$type": "app.bsky.embed.record", "record": {"uri": "at://x/app.bsky.feed.post/1", "cid": "c"}}
    _, post = parse_event(
        jetstream_post(did="did:plc:b", rkey="3", time_us=3, text="q", embed=embed), handles
    )
    assert post is not None and post.kind == "quote"
    for bad in ["{", "[]", '{"did":"did:plc:x","time_us":-1}', '{"did":"nope","time_us":5,"kind":"commit"}',
                '{"did":"did:plc:x","time_us":5,"kind":"commit","commit":{"operation":"create",'
                '"collection":"app.bsky.feed.post","rkey":"1","record":{"text":5}}}']:  # fmt: skip
        with pytest.raises(MalformedEvent):
            parse_event(bad, handles)
    # Deletes and other collections carry no post but move the cursor.
    delete = (
        '{"did":"did:plc:x","time_us":9,"kind":"commit",'
        '"commit":{"operation":"delete","collection":"app.bsky.feed.post","rkey":"1"}}'
    )
    assert parse_event(delete, handles) == (9, None)
