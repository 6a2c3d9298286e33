"""`firstring bench dashboards`: how fast the managers' insights pages answer over a big history.

Loads the inbox benchmark's history (`bench inbox`'s loader: 1,000,000 messages over 180 days by
default, COPY on PostgreSQL), then what the insights pipeline would have stored for it: every distinct
customer text is read once by the real classifiers (tone, topics against ten named topics, language,
urgency) and each inbound message gets its text's results (COPY again, since running the pipeline a
million times is `bench ingest`'s business), each conversation its `ConversationInsight`, and the
rollup is rebuilt day by day as the pipeline would leave it (`rollup_seconds`). Surveys as the
surveys app would have stored them: a CSAT request for every resolved conversation, a third of them
answered (mostly 4s and 5s), and an NPS request and answer for a tenth of the customers. Service
levels as the watch and the phone would have left them: one policy over every conversation (first
reply in 4 h, resolution in 2 days), nine in ten replied (a mean of 2 h after the start), a breach
alert for each target missed, and `--calls` calls on a phone number. Then it times real requests as
a manager through Django's whole stack: the dashboard (tone, topics, lift, CSAT and NPS, response,
resolution, attainment and calls) over 7, 30, 90 and 180 days with and without filters, drill-downs
(conversations, service levels and survey answers) and CSV exports of the tables. `p95_ms` is over
all of them.
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
from firstring.bench.inbox import _loaded as _inbox_loaded
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


def surveys(*, seed: int) -> dict[str, int]:
    """CSAT for every resolved conversation (a third answered), NPS for a tenth of the customers."""
    import random

    from firstring.conversations.models import Conversation
    from firstring.insights.models import ConversationInsight
    from firstring.surveys.models import SurveyAnswer, SurveyRequest

    rng = random.Random(seed)
    topics = dict(ConversationInsight.objects.values_list("conversation_id", "topic_id"))
    resolved = list(
        Conversation.objects.filter(status="resolved")
        .order_by("id")
        .values_list("id", "customer_id", "assignee_id", "team_id", "channel_id", "resolved_at")
    )
    nps_customers: set[int] = set()
    planned: list[tuple[Any, ...]] = []
    for cid, customer, assignee, team, channel, resolved_at in resolved:
        assert resolved_at is not None
        kinds = ["csat"]
        if customer % 10 == 0 and customer not in nps_customers:
            nps_customers.add(customer)
            kinds.append("nps")
        for kind in kinds:
            answered = kind == "nps" or rng.random() < 0.33
            at = resolved_at + timedelta(hours=rng.uniform(0.1, 48))
            planned.append(
                (kind, "answered" if answered else "sent", cid, customer, assignee, team, channel,
                 topics.get(cid), f"bench-{kind}-{cid}", resolved_at, resolved_at,
                 at if answered else None, resolved_at + timedelta(days=7))
            )  # fmt: skip
    requests = bulk_load(
        SurveyRequest,
        ["kind", "status", "conversation_id", "customer_id", "agent_id", "team_id", "channel_id", "topic_id",
         "token", "created_at", "sent_at", "answered_at", "expires_at"],
        planned,
    )  # fmt: skip
    answered_rows = list(
        SurveyRequest.objects.filter(status="answered").values_list(
            "id", "kind", "channel_id", "team_id", "agent_id", "topic_id", "answered_at"
        )
    )

    def answer_rows() -> Iterable[tuple[Any, ...]]:
        for rid, kind, channel, team, agent, topic, at in answered_rows:
            if kind == "csat":
                score = rng.choices(range(1, 6), weights=[5, 7, 13, 30, 45])[0]
            else:
                score = rng.choices(range(11), weights=[2, 1, 2, 2, 3, 4, 6, 12, 18, 22, 28])[0]
            comment = "" if rng.random() < 0.7 else "The parcel took a week, but the agent was kind."
            yield (rid, kind, channel, team, agent, topic, score, comment, "page", at)

    answers = bulk_load(
        SurveyAnswer,
        ["request_id", "kind", "channel_id", "team_id", "agent_id", "topic_id", "score", "comment", "via",
         "answered_at"],
        answer_rows(),
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"survey_requests": requests, "survey_answers": answers}


def service_levels(*, seed: int, calls: int) -> dict[str, int]:
    """First replies, a policy, the breaches its targets would have raised, and calls on a phone number."""
    import random

    from firstring.channels.models import Channel
    from firstring.conversations.models import Conversation
    from firstring.lib.bulk import update_rows
    from firstring.routing.models import SlaAlert
    from firstring.sla.models import SlaPolicy
    from firstring.voice.models import Call

    rng = random.Random(seed)
    now = timezone.now()
    policy = SlaPolicy.objects.create(name="Bench", first_response_minutes=240, resolution_minutes=2880)
    first_target, resolution_target = timedelta(hours=4), timedelta(days=2)
    conversations = list(Conversation.objects.order_by("id").values_list("id", "created_at", "resolved_at"))
    changed: list[Conversation] = []
    alerts: list[tuple[Any, ...]] = []
    for cid, created, resolved in conversations:
        replied = created + timedelta(seconds=60 + rng.expovariate(1 / 7200)) if rng.random() < 0.9 else None
        changed.append(Conversation(pk=cid, first_response_at=replied, sla_policy_id=policy.pk))
        for target, due, reached in (
            ("first_response", created + first_target, replied),
            ("resolution", created + resolution_target, resolved),
        ):
            if due < min(reached or now, now):
                alerts.append((cid, target, "breach", due, due))
    for start in range(0, len(changed), 2000):
        update_rows(changed[start : start + 2000], ["first_response_at", "sla_policy"])
    loaded_alerts = bulk_load(SlaAlert, ["conversation_id", "target", "kind", "due_at", "created_at"], alerts)

    phone = Channel.objects.create(kind="phone", slug="bench-phone", name="bench-phone")

    def call_rows() -> Iterable[tuple[Any, ...]]:
        for n in range(calls):
            cid, created, _resolved = conversations[rng.randrange(len(conversations))]
            outcome = rng.choices(["completed", "abandoned", "voicemail", "self_service"], [80, 10, 5, 5])[0]
            queued = created + timedelta(seconds=30) if outcome != "self_service" else None
            wait = int(rng.expovariate(1 / 25)) if queued else 0
            talk = int(rng.expovariate(1 / 180)) if outcome == "completed" else 0
            yield (
                cid, phone.pk, "twilio", f"bench-call-{n}", "+15550100", "+15550199", "ended", outcome,
                created, queued, created + timedelta(seconds=30 + wait + talk), wait, talk,
            )  # fmt: skip

    loaded_calls = bulk_load(
        Call,
        ["conversation_id", "channel_id", "provider", "external_id", "number_called", "caller", "status",
         "outcome", "started_at", "queued_at", "ended_at", "wait_seconds", "talk_seconds"],
        call_rows(),
    )  # fmt: skip
    with connection.cursor() as cursor:
        # Every conversation was rewritten: what autovacuum does soon after (statistics, visibility map).
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return {"sla_alerts": loaded_alerts, "calls": loaded_calls}


def _json_rows(rows: Iterable[tuple[Any, ...]], column: int) -> Iterable[tuple[Any, ...]]:
    import json

    for row in rows:
        yield (*row[:column], json.dumps(row[column]), *row[column + 1 :])


def pages(topic_id: int, channel_id: int, team_id: int, agent_id: int) -> list[str]:
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
        f"/insights/conversations/?{span(30)}&service=first_response_missed",
        f"/insights/conversations/?{span(90)}&service=abandoned&team={team_id}",
        f"/insights/export/service-team.csv?{span(180)}",
        f"/insights/surveys/?{span(30)}&band=bad",
        f"/insights/surveys/?{span(180)}&kind=csat&agent={agent_id}",
        f"/insights/export/surveys-agent.csv?{span(180)}",
        f"/insights/export/survey-answers.csv?{span(30)}&kind=nps",
    ]


def _loaded(args: argparse.Namespace) -> dict[str, Any] | None:
    """The staff of the annotated history an earlier --keep run left, or None if there is none."""
    from firstring.accounts.models import User
    from firstring.insights.models import ConversationInsight
    from firstring.voice.models import Call

    found = _inbox_loaded(args)
    if found is None:
        return None
    if not ConversationInsight.objects.exists() or Call.objects.count() != args.calls:
        raise SystemExit(f"the kept history is not annotated with {args.calls} calls: run without --reuse")
    found["agent"] = User.objects.get(email="support0@example.com")
    return found


def main(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="firstring bench dashboards", description=__doc__)
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--calls", type=int, default=25_000, help="Calls on the phone number.")
    parser.add_argument("--rounds", type=int, default=10, help="Timed requests per page.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="Leave the loaded database behind after the run.")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="Time the annotated history an earlier --keep run left (same sizes; the rollup rebuilt, "
        "migrated to the current models) instead of loading it again; load it if there is none. "
        "Implies --keep.",
    )
    args = parser.parse_args(argv)
    if args.conversations < 1 or args.messages < args.conversations or args.rounds < 1 or args.calls < 0:
        parser.error("need at least one conversation, one message per conversation and one round")

    from django.test import Client

    from firstring.accounts.models import Team
    from firstring.channels.models import Channel
    from firstring.conversations.models import Message
    from firstring.insights.models import DailyInsight, Topic
    from firstring.insights.rollup import rollup_rebuild

    with bench_database("dashboards", keep=args.keep, reuse=args.reuse) as vendor:
        began = time.perf_counter()
        data = _loaded(args) if args.reuse else None
        counts: dict[str, Any] = {}
        if data is None:
            data = load(conversations=args.conversations, messages=args.messages, seed=args.seed)
        load_seconds = time.perf_counter() - began
        began = time.perf_counter()
        if data["text_source"] != "reused":
            counts = annotate(seed=args.seed)
            counts.update(surveys(seed=args.seed))
            counts.update(service_levels(seed=args.seed, calls=args.calls))
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
        agent = data["agent"]
        timings, worst = _time(client, pages(topic.pk, channel.pk, team.pk, agent.pk), args.rounds)
        messages = Message.objects.count()

    slowest = sorted(worst.items(), key=lambda item: -item[1])[:5]
    return {
        "benchmark": "dashboards",
        "database": vendor,
        "messages": messages,
        "insights_rows": counts,
        "reused": data["text_source"] == "reused",
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
