"""`firstring bench dashboards`: how fast the managers' insights pages answer over a big history.

Loads the inbox benchmark's history (`bench inbox`'s loader: 1,000,000 messages over 180 days by
default, COPY on PostgreSQL), then what the insights pipeline would have stored for it: every distinct
customer text is read once by the real classifiers (tone, topics against ten named topics, language,
urgency) and each inbound message gets its text's results (COPY again, since running the pipeline a
million times is `bench ingest`'s business), each conversation its `ConversationInsight`, and the
rollup is rebuilt day by day as the pipeline would leave it (`rollup_seconds`). Then it times real
requests as a manager through Django's whole stack: the dashboard over 7, 30, 90 and 180 days with
and without filters, drill-downs and CSV exports of the tables. `p95_ms` is over all of them.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.db import connection
from django.utils import timezone

from firstring.bench._database import bench_database, percentile
from firstring.bench.inbox import _time, bulk_load, load

TOPICS = [
    ("delivery", "parcels and orders that are late, lost or never arrived"),
    ("billing", "charges, invoices, payments and refunds"),
    ("outage", "the service, app or network is down"),
    ("account and login", "passwords, locked accounts, sign-in problems"),
    ("app not working", "bugs, crashes and errors in the app"),
    ("flight delay", "delayed or cancelled flights"),
    ("customer service", "waiting on hold, nobody answers, rude staff"),
    ("food quality", "cold, wrong or bad food"),
    ("praise", "thanks and compliments"),
    ("cancel subscription", "customers who want to leave or cancel"),
]


def annotate(*, seed: int) -> dict[str, Any]:
    """Store the insights of every inbound message and conversation the inbox loader created."""
    from firstring.bench._corpus import support_texts
    from firstring.conversations.models import Conversation, Message
    from firstring.insights.classifiers import get_classifier
    from firstring.insights.models import ConversationInsight, MessageSignal, MessageTone, MessageTopic, Topic
    from firstring.insights.signals import read_signals
    from firstring.insights.topic_services import current_topic_classifier

    for name, description in TOPICS:
        Topic.objects.create(name=name, description=description)
    texts, _source = support_texts(seed)
    tones = get_classifier("default").classify(texts)
    ranked = current_topic_classifier().classify(texts)
    signals = read_signals(texts)
    now = timezone.now()

    # Read first, whole: the loads below COPY on the same connection, which a cursor still reading
    # would wait for (and the COPY for it).
    messages = list(
        Message.objects.filter(direction=Message.Direction.INBOUND)
        .order_by("id")
        .values_list("id", "conversation_id", "created_at")
    )

    def index(message_id: int) -> int:
        return (message_id * 7919) % len(texts)  # the loader's choice of text

    def tone_rows() -> Iterable[tuple[Any, ...]]:
        for mid, _cid, _at in messages:
            t = tones[index(mid)]
            yield (mid, t.label, t.score, t.confidence, t.label, "default", now, now)

    def topic_rows() -> Iterable[tuple[Any, ...]]:
        for mid, _cid, at in messages:
            best = ranked[index(mid)][0]
            yield (mid, best.key, best.confidence, "model", True, at)

    def signal_rows() -> Iterable[tuple[Any, ...]]:
        for mid, _cid, at in messages:
            s = signals[index(mid)]
            yield (mid, s.language, s.language_confidence, list(s.urgency), s.urgent, at, now)

    counts = {
        "tones": bulk_load(
            MessageTone,
            [
                "message_id",
                "label",
                "score",
                "confidence",
                "predicted_label",
                "backend",
                "created_at",
                "updated_at",
            ],
            tone_rows(),
        ),
        "topics": bulk_load(
            MessageTopic,
            ["message_id", "topic_id", "confidence", "source", "primary", "created_at"],
            topic_rows(),
        ),
        "signals": bulk_load(
            MessageSignal,
            [
                "message_id",
                "language",
                "language_confidence",
                "urgency",
                "urgent",
                "received_at",
                "created_at",
            ],
            _json_rows(signal_rows(), 3),
        ),
    }
    # A conversation's first and last customer message decide its lift: computed in SQL, like the
    # pipeline's refresh does per conversation.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute(
            """
            INSERT INTO insights_conversationinsight
                (conversation_id, started_at, channel_id, language, urgent, urgency, topic_id,
                 customer_messages, tone_first_score, tone_last_score, tone_lift, updated_at)
            SELECT c.id, c.created_at, c.channel_id, '', FALSE, '[]', mt.topic_id, s.n, s.first, s.last,
                   CASE WHEN s.n > 1 THEN s.last - s.first END, c.updated_at
            FROM conversations_conversation c
            JOIN (
                SELECT m.conversation_id,
                       MIN(f.first_id) AS first_id,
                       COUNT(*) AS n,
                       MIN(CASE WHEN m.id = f.first_id THEN t.score END) AS first,
                       MIN(CASE WHEN m.id = f.last_id THEN t.score END) AS last
                FROM conversations_message m
                JOIN insights_messagetone t ON t.message_id = m.id
                JOIN (
                    SELECT conversation_id, MIN(id) AS first_id, MAX(id) AS last_id
                    FROM conversations_message WHERE direction = 'inbound' GROUP BY conversation_id
                ) f ON f.conversation_id = m.conversation_id
                WHERE m.direction = 'inbound'
                GROUP BY m.conversation_id
            ) s ON s.conversation_id = c.id
            LEFT JOIN insights_messagetopic mt ON mt.message_id = s.first_id AND mt."primary"
            """
        )
        counts["conversations"] = cursor.rowcount
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    del Conversation, ConversationInsight
    return counts


def _json_rows(rows: Iterable[tuple[Any, ...]], column: int) -> Iterable[tuple[Any, ...]]:
    import json

    for row in rows:
        yield (*row[:column], json.dumps(row[column]), *row[column + 1 :])


def pages(topic_id: int, channel_id: int, team_id: int) -> list[str]:
    today = timezone.localdate()

    def span(days: int) -> str:
        return f"since={(today - timedelta(days=days - 1)).isoformat()}&until={today.isoformat()}"

    return [
        f"/insights/?{span(7)}",
        "/insights/",
        f"/insights/?{span(90)}",
        f"/insights/?{span(180)}",
        f"/insights/?{span(30)}&channel={channel_id}",
        f"/insights/?{span(90)}&team={team_id}",
        f"/insights/?{span(180)}&topic={topic_id}",
        f"/insights/?{span(90)}&channel={channel_id}&team={team_id}&topic={topic_id}",
        f"/insights/conversations/?{span(30)}&tone=negative",
        f"/insights/conversations/?{span(90)}&tone=improved&topic={topic_id}",
        f"/insights/conversations/?{span(180)}&tone=urgent&channel={channel_id}",
        f"/insights/export/tone.csv?{span(180)}",
        f"/insights/export/topics.csv?{span(90)}",
        f"/insights/export/lift-agent.csv?{span(90)}",
    ]


def main(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="firstring bench dashboards", description=__doc__)
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=10, help="Timed requests per page.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="Leave the loaded database behind after the run.")
    args = parser.parse_args(argv)
    if args.conversations < 1 or args.messages < args.conversations or args.rounds < 1:
        parser.error("need at least one conversation, one message per conversation and one round")

    from django.test import Client

    from firstring.accounts.models import Team
    from firstring.channels.models import Channel
    from firstring.conversations.models import Message
    from firstring.insights.models import DailyInsight, Topic
    from firstring.insights.rollup import rollup_rebuild

    with bench_database("dashboards", keep=args.keep) as vendor:
        began = time.perf_counter()
        data = load(conversations=args.conversations, messages=args.messages, seed=args.seed)
        load_seconds = time.perf_counter() - began
        began = time.perf_counter()
        counts = annotate(seed=args.seed)
        annotate_seconds = time.perf_counter() - began
        today = timezone.localdate()
        began = time.perf_counter()
        rollup_rebuild(since=today - timedelta(days=185), until=today)
        rollup_seconds = time.perf_counter() - began
        rollup_rows = DailyInsight.objects.count()

        client = Client()
        client.force_login(data["manager"])
        topic = Topic.objects.order_by("pk").first()
        channel = Channel.objects.order_by("pk").first()
        team = Team.objects.order_by("pk").first()
        assert topic is not None and channel is not None and team is not None
        timings, worst = _time(client, pages(topic.pk, channel.pk, team.pk), args.rounds)
        messages = Message.objects.count()

    slowest = sorted(worst.items(), key=lambda item: -item[1])[:5]
    return {
        "benchmark": "dashboards",
        "database": vendor,
        "messages": messages,
        "insights_rows": counts,
        "rollup_rows": rollup_rows,
        "load_seconds": round(load_seconds, 1),
        "annotate_seconds": round(annotate_seconds, 1),
        "rollup_seconds": round(rollup_seconds, 1),
        "rollup_seconds_per_day": round(rollup_seconds / 186, 3),
        "requests": len(timings),
        "p95_ms": round(percentile(timings, 0.95), 1),
        "p50_ms": round(percentile(timings, 0.5), 1),
        "slowest_ms": {path: round(ms, 1) for path, ms in slowest},
        "text_source": data["text_source"],
    }
