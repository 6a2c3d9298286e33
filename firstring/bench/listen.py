"""`firstring bench listen`: a replayed Jetstream firehose through the whole listening pipeline.

200 monitors (the 40 support brands of `../shared/data/twcs_threads_dev.csv` and made-up ones, some
with AND/NOT) listen to `--events` Jetstream events spread over `--minutes` of replayed time: real
support tweets that mention a brand (`--mention-rate`), unrelated chatter (TweetEval's tweets), reposts
and identity events. From minute `--spike-at`, one brand also gets `--spike-per-minute` extra negative
posts for ten minutes (texts the tone engine calls negative). Every event goes the way a live one goes:
Jetstream JSON parsed, matched against every monitor, de-duplicated, read in batches (tone, the
company's `--topics` support topics, urgency, language when the post has none), stored with its
matches and the cursor, and fed to the spike rule, `--batch` events per transaction.

Timed: that whole path, in this one process (`events_per_second`, wall clock; `cpu_events_per_second`,
this process's CPU). `match_rate`: events that matched a monitor. `alert_latency_s`: replayed seconds
from the spike's first post to its alert; `steady_alerts`: alerts on the other monitors (should be 0).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from django.db import connection

from firstring.accounts.models import User
from firstring.bench._database import bench_database
from firstring.insights.classifiers import get_classifier
from firstring.insights.topic_services import current_topic_classifier, topic_create
from firstring.listening.matching import Post
from firstring.listening.models import Alert, Mention, MonitorMatch, Source
from firstring.listening.pipeline import active_matcher, mentions_ingest
from firstring.listening.services import monitor_create
from firstring.listening.sources import MalformedEvent
from firstring.listening.sources.bluesky.jetstream import Handles, parse_event
from firstring.listening.testing import build_brands, build_replay

START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
# The topics a support team names for itself (name, examples), the first `--topics` of them.
TOPICS = [
    ("delivery", ["where is my parcel", "the courier never came"]),
    ("billing", ["I was charged twice", "my invoice is wrong"]),
    ("refunds", ["I want my money back", "when will my refund arrive"]),
    ("account access", ["I cannot log in", "reset my password"]),
    ("outage", ["the app is down", "no internet since this morning"]),
    ("customer service", ["nobody answers the phone", "your agent was rude"]),
    ("flights", ["my flight was delayed", "lost luggage at the airport"]),
    ("product quality", ["it broke after a week", "the screen is cracked"]),
]


def main(argv: Sequence[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="firstring bench listen", description=__doc__)
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--monitors", type=int, default=200)
    parser.add_argument("--minutes", type=float, default=90.0, help="Replayed time the events span.")
    parser.add_argument("--mention-rate", type=float, default=0.03)
    parser.add_argument("--spike-at", type=float, default=60.0, help="Minute the planted spike starts.")
    parser.add_argument("--spike-per-minute", type=float, default=20.0)
    parser.add_argument("--batch", type=int, default=1000, help="Events per stored batch.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--topics", type=int, default=6, help=f"Company topics (0 to {len(TOPICS)}).")
    args = parser.parse_args(argv)

    brands, _ = build_brands(args.monitors, seed=args.seed)
    # The spike goes to a quiet made-up brand near the long tail's end, so its baseline is low.
    spike_brand = len(brands) - 1
    pool = [text for brand in brands[:40] for text in brand.texts]
    negative = [
        text
        for text, tone in zip(pool, get_classifier().classify(pool), strict=True)
        if tone.label == "negative"
    ]
    replay = build_replay(
        events=args.events,
        brands=brands,
        start=START,
        minutes=args.minutes,
        mention_rate=args.mention_rate,
        seed=args.seed,
        spike_brand=spike_brand,
        spike_at_minute=args.spike_at,
        spike_per_minute=args.spike_per_minute,
        negative_texts=negative or pool,
    )

    with bench_database("listen") as vendor:
        manager = User.objects.create_user(
            email="bench-manager@example.com", password=None, name="Bench", role=User.Role.MANAGER
        )
        for name, examples in TOPICS[: max(0, args.topics)]:
            topic_create(user=manager, name=name, examples=examples)
        # Built (and the encoder loaded) before the clock starts, as in a running listener.
        current_topic_classifier()
        monitors = [monitor_create(actor=None, name=brand.handle, query=brand.query) for brand in brands]
        # No AppView lookups (network I/O, not matching); the posts' own reach is used.
        source = Source.objects.create(
            kind="bluesky", slug="bench", name="Bench firehose", config={"appview_url": ""}
        )
        matcher = active_matcher()
        handles = Handles()
        found = 0
        malformed = 0
        wall = time.perf_counter()
        cpu = time.process_time()
        batch: list[Post] = []
        cursor = ""
        for position, raw in enumerate(replay.events, start=1):
            try:
                time_us, post = parse_event(raw, handles)
            except MalformedEvent:
                malformed += 1
                continue
            cursor = str(time_us)
            if post is not None:
                batch.append(post)
            if position % args.batch == 0:
                found += mentions_ingest(posts=batch, source=source, cursor=cursor, matcher=matcher).matched
                batch = []
        if batch or cursor:
            found += mentions_ingest(posts=batch, source=source, cursor=cursor, matcher=matcher).matched
        wall = time.perf_counter() - wall
        cpu = time.process_time() - cpu

        spike_monitor = monitors[spike_brand]
        first_alert = Alert.objects.filter(monitor=spike_monitor).order_by("opened_at").first()
        latency = (
            (first_alert.opened_at - replay.spike_start).total_seconds()
            if first_alert is not None and replay.spike_start is not None
            else None
        )
        stored = Mention.objects.count()
        result = {
            "benchmark": "listen",
            "database": vendor,
            "events": len(replay.events),
            "monitors": len(monitors),
            "replayed_minutes": args.minutes,
            "text_source": replay.source,
            "event_kinds": replay.counts,
            "events_per_second": round(len(replay.events) / wall) if wall > 0 else None,
            "cpu_events_per_second": round(len(replay.events) / cpu) if cpu > 0 else None,
            "seconds": round(wall, 2),
            "match_rate": round(found / len(replay.events), 4),
            "matched_events": found,
            "mentions_stored": stored,
            "matches_stored": MonitorMatch.objects.count(),
            "mentions_scored": Mention.objects.exclude(tone="").count(),
            "negative_share": round(Mention.objects.filter(tone="negative").count() / stored, 3)
            if stored
            else 0,
            "topics": min(max(0, args.topics), len(TOPICS)),
            "mentions_with_topic": Mention.objects.exclude(topic=None).count(),
            "mentions_urgent": Mention.objects.filter(urgent=True).count(),
            "mentions_with_language": Mention.objects.exclude(language="").count(),
            "reposts_counted": sum(Mention.objects.values_list("reposts", flat=True)),
            "malformed": malformed,
            "cursor_saved": Source.objects.get(pk=source.pk).cursor == cursor,
            "alert_latency_s": round(latency, 1) if latency is not None else None,
            "spike_alert_closed": bool(first_alert and Alert.objects.get(pk=first_alert.pk).closed_at),
            "steady_alerts": Alert.objects.exclude(monitor=spike_monitor).count(),
        }
        connection.close()
    return result
