"""`firstring listen` runs the sources in a process of its own and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from firstring.listening.models import Mention, Source
from firstring.listening.services import monitor_create
from firstring.listening.testing import build_brands, feed_items, mastodon_statuses, rss_feed, social_items
from tests.http_peer import http_peer
from tests.listening.conftest import T0
from tests.listening.social_peers import held_open, sse
from tests.test_worker import database_url

pytestmark = pytest.mark.django_db(transaction=True)


def test_listen_polls_the_feeds_until_stopped(tmp_path):
    brands, _ = build_brands(3, seed=4)
    for brand in brands:
        monitor_create(actor=None, name=brand.handle, query=brand.query)
    items = feed_items(brands=brands, count=9, start=T0)
    with http_peer() as peer:
        peer.get_routes["/feed"] = lambda r: (200, {"Content-Type": "application/rss+xml"}, rss_feed(items))
        peer.get_routes["/broken"] = lambda r: (500, {}, b"")
        Source.objects.create(kind="rss", slug="blog", name="Blog", config={"url": peer.at("/feed")})
        Source.objects.create(kind="rss", slug="down", name="Down", config={"url": peer.at("/broken")})
        log = tmp_path / "listen.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "firstring", "listen"],
                env={**os.environ, "DATABASE_URL": database_url()},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
            try:
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline and Mention.objects.count() < 3:
                    time.sleep(0.2)
                assert Mention.objects.count() == 3, log.read_text()
                process.send_signal(signal.SIGTERM)
                assert process.wait(timeout=20) == 0, log.read_text()
            finally:
                if process.poll() is None:
                    process.kill()
    # The broken feed was logged and backed off; the good one kept going.
    assert "down: feed failed (HTTP 500)" in log.read_text()
    assert Source.objects.get(slug="down").state["failures"] >= 1


def test_listen_without_sources_says_so():
    result = subprocess.run(
        [sys.executable, "-m", "firstring", "listen"],
        env={**os.environ, "DATABASE_URL": database_url()},
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 1 and b"no enabled listening source" in result.stderr


def test_listen_reads_a_mastodon_stream_and_stops_while_it_is_open(tmp_path):
    brands, _ = build_brands(3, seed=4)
    for brand in brands:
        monitor_create(actor=None, name=brand.handle, query=brand.query)
    items = social_items(brands=brands, count=12, start=T0, mention_rate=1.0, boost_rate=0)
    done = threading.Event()
    chunks = [sse("update", status) for status in mastodon_statuses(items)]
    with http_peer() as peer:
        peer.get_routes["/api/v1/streaming/public"] = lambda r: (
            200, {"Content-Type": "text/event-stream"}, held_open(chunks, done, beat=b":thump\n\n")
        )  # fmt: skip
        Source.objects.create(
            kind="mastodon", slug="masto", name="Mastodon",
            config={"instance": peer.at(""), "timeline": "public", "batch_seconds": 0.2},
        )  # fmt: skip
        log = tmp_path / "listen.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "firstring", "listen"],
                env={**os.environ, "DATABASE_URL": database_url()},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
            try:
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline and Mention.objects.count() < 12:
                    time.sleep(0.2)
                assert Mention.objects.count() == 12, log.read_text()
                process.send_signal(signal.SIGTERM)
                assert process.wait(timeout=20) == 0, log.read_text()
            finally:
                done.set()
                if process.poll() is None:
                    process.kill()
    assert Source.objects.get(slug="masto").cursor == mastodon_statuses(items)[-1]["id"]
