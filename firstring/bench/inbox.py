"""`firstring bench inbox`: how fast the inbox answers with a big history behind it.

Bulk-loads conversations and messages (COPY on PostgreSQL, executemany on SQLite; not the receive
path, which `bench ingest` measures) into a database of its own, then times real requests through
Django's whole stack (middleware, sessions, token auth, templates, JSON): the web inbox `GET /` as an
agent and as a manager, and `GET /api/v1/conversations`, over a mix of views, filters, sorts, search
and second pages.
"""

from __future__ import annotations

import argparse
import html
import random
import re
import time
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, models
from django.utils import timezone

from firstring.bench._corpus import support_texts
from firstring.bench._database import bench_database, percentile

_NEXT_CURSOR_RE = re.compile(r'"next_cursor":\s*"([^"]+)"')


def _prepare(value: Any) -> Any:
    if connection.vendor == "sqlite" and isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    return value


def bulk_load(model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Insert rows of `columns` values; every other column gets its field's default."""
    others = [f for f in model._meta.concrete_fields if f.column not in columns and not f.primary_key]
    defaults = [f.get_db_prep_save(f.get_default(), connection) for f in others]
    all_columns = [*columns, *(str(f.column) for f in others)]
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in all_columns)
    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = cursor.cursor  # psycopg's own cursor: COPY is its fastest way in
            with raw.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row((*row, *defaults))
                    count += 1
        else:
            placeholders = ", ".join(["%s"] * len(all_columns))
            batch: list[tuple[Any, ...]] = []
            sql = f"INSERT INTO {table} ({names}) VALUES ({placeholders})"  # noqa: S608 (names from models)
            for row in rows:
                batch.append((*(_prepare(v) for v in row), *defaults))
                if len(batch) == 5000:
                    cursor.executemany(sql, batch)
                    count += len(batch)
                    batch = []
            if batch:
                cursor.executemany(sql, batch)
                count += len(batch)
    return count


def load(*, conversations: int, messages: int, seed: int) -> dict[str, Any]:
    """Staff, channels and a history: `conversations` conversations holding `messages` messages."""
    from firstring.accounts.models import Tag, Team, User
    from firstring.channels.models import Channel
    from firstring.conversations.models import Conversation, Message
    from firstring.conversations.services import inbox_counts_compact
    from firstring.customers.models import Customer, Identity

    rng = random.Random(seed)
    texts, source = support_texts(seed)
    now = timezone.now()
    teams = [Team.objects.create(name=n.title(), slug=n) for n in ("support", "billing", "sales", "tech")]
    agents: dict[int, list[int]] = {}
    for team in teams:
        members = [
            User.objects.create_user(email=f"{team.slug}{i}@example.com", password=None, name=f"{team} {i}")
            for i in range(8)
        ]
        team.members.add(*members)
        agents[team.pk] = [u.pk for u in members]
    agent = User.objects.get(email="support0@example.com")
    manager = User.objects.create_user(email="manager@example.com", password=None, role=User.Role.MANAGER)
    channels = [
        Channel.objects.create(kind=kind, slug=slug, name=slug, team=team)
        for kind, slug, team in (
            ("email", "support-email", teams[0]),
            ("email", "billing-email", teams[1]),
            ("chat", "web-chat", teams[2]),
            ("sms", "sms", teams[3]),
            ("api", "bench-api", None),
        )
    ]
    tags = [Tag.objects.create(name=f"tag-{i}") for i in range(20)]

    customer_count = max(1, conversations // 3)
    bulk_load(
        Customer,
        ["id", "name", "created_at", "updated_at"],
        ((i, f"Customer {i}", now, now) for i in range(1, customer_count + 1)),
    )
    bulk_load(
        Identity,
        ["id", "customer_id", "kind", "value", "created_at"],
        ((i, i, "email", f"customer{i}@example.com", now) for i in range(1, customer_count + 1)),
    )

    # How many messages each conversation holds: at least one, `messages` in all.
    sizes = [1] * conversations
    for _ in range(max(0, messages - conversations)):
        sizes[rng.randrange(conversations)] += 1
    statuses = ["open"] * 25 + ["pending"] * 10 + ["snoozed"] * 5 + ["resolved"] * 60
    conversation_rows = []
    message_plan: list[tuple[int, int, int | None, datetime, int]] = []
    tag_rows = []
    for cid in range(1, conversations + 1):
        channel = rng.choice(channels)
        team_id = channel.team_id if rng.random() > 0.1 else None
        status = rng.choice(statuses)
        assignee = rng.choice(agents[team_id]) if team_id and rng.random() < 0.6 else None
        last = now - timedelta(seconds=rng.randrange(180 * 86400))
        created = last - timedelta(seconds=rng.randrange(3 * 86400))
        waiting = last if status in ("open", "pending") and rng.random() < 0.5 else None
        due = last + timedelta(hours=rng.randrange(1, 48)) if rng.random() < 0.3 else None
        customer_id = rng.randrange(1, customer_count + 1)
        excerpt = rng.choice(texts)[:200]
        conversation_rows.append(
            (
                cid, channel.pk, customer_id, customer_id, f"Case {cid}" if channel.kind == "email" else "",
                status, rng.choice([1, 2, 2, 2, 3, 4]), assignee, team_id,
                rng.choice(["en", "en", "en", "de", "fr", ""]),
                rng.choice(["negative", "neutral", "positive", ""]),
                created, last, last, last, waiting, last if status == "resolved" else None,
                now - timedelta(hours=1) if rng.random() < 0.03 else None, due, due, excerpt, sizes[cid - 1],
            )
        )  # fmt: skip
        message_plan.append((cid, channel.pk, assignee, created, sizes[cid - 1]))
        if rng.random() < 0.1:
            tag_rows.append((cid, rng.choice(tags).pk))
    bulk_load(
        Conversation,
        [
            "id", "channel_id", "customer_id", "identity_id", "subject", "status", "priority", "assignee_id",
            "team_id", "language", "tone_latest", "created_at", "updated_at", "last_message_at",
            "last_customer_message_at", "waiting_since", "resolved_at", "escalated_at",
            "first_response_due_at", "sla_due_at", "last_message_excerpt", "message_count",
        ],
        conversation_rows,
    )  # fmt: skip
    through = Conversation.tags.through
    bulk_load(through, ["conversation_id", "tag_id"], tag_rows)
    customers_of = {row[0]: row[2] for row in conversation_rows}
    del conversation_rows

    def message_rows() -> Iterable[tuple[Any, ...]]:
        mid = 0
        for cid, channel_id, assignee, created, size in message_plan:
            for n in range(size):
                mid += 1
                inbound = n % 2 == 0 or assignee is None
                text = texts[(mid * 7919) % len(texts)]
                yield (
                    mid, cid, channel_id, "inbound" if inbound else "outbound",
                    customers_of[cid] if inbound else None, None if inbound else assignee,
                    text, f"<p>{html.escape(text)}</p>", f"bench-{mid}", created + timedelta(minutes=n),
                    "" if inbound else "delivered",
                )  # fmt: skip

    columns = [
        "id", "conversation_id", "channel_id", "direction", "author_customer_id", "author_user_id",
        "text", "html", "external_id", "created_at", "delivery_status",
    ]  # fmt: skip
    if connection.vendor == "postgresql":
        # One index build after the load is much faster than a million GIN insertions.
        with connection.cursor() as cursor:
            cursor.execute("DROP INDEX conversations_message_text_fts")
        loaded = bulk_load(Message, columns, message_rows())
        with connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '256MB'")
            cursor.execute(
                "CREATE INDEX conversations_message_text_fts ON conversations_message "
                "USING gin (to_tsvector('simple'::regconfig, text))"
            )
            for model in (Customer, Identity, Conversation, Message, through):
                table = model._meta.db_table  # from the models, not from input
                sql = f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"  # noqa: S608
                cursor.execute(sql)
            # What autovacuum does soon after a bulk load: statistics, the visibility map, and the GIN
            # indexes' pending lists (the customers' were filled row by row by COPY) merged, which
            # every full-text search would otherwise read through.
            cursor.execute("VACUUM ANALYZE")
    else:
        loaded = bulk_load(Message, columns, message_rows())
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    # The triggers recorded one +1 per conversation; fold them as the worker's periodic job would.
    inbox_counts_compact()
    return {"agent": agent, "manager": manager, "messages": loaded, "text_source": source}


AGENT_PAGES = [
    "/",
    "/?view=mine",
    "/?view=unassigned",
    "/?view=my_teams&sort=priority",
    "/?view=all_open&sort=waiting",
    "/?view=resolved",
    "/?channel=email&status=open",
    "/?priority=4",
    "/?tone=negative&language=de",
    "/?tag=tag-3",
    "/?q=refund",
    "/?q=password reset",
]
MANAGER_PAGES = [*AGENT_PAGES, "/?view=escalated", "/?sort=sla", "/?team=2"]
API_PAGES = [
    "/api/v1/conversations",
    "/api/v1/conversations?view=mine",
    "/api/v1/conversations?view=unassigned&sort=priority",
    "/api/v1/conversations?view=all_open&sort=waiting&limit=100",
    "/api/v1/conversations?view=resolved",
    "/api/v1/conversations?channel=sms&status=pending",
    "/api/v1/conversations?priority=urgent",
    "/api/v1/conversations?tag=tag-7",
    "/api/v1/conversations?q=refund",
]


def _time(
    client: Any, paths: Sequence[str], rounds: int, **headers: Any
) -> tuple[list[float], dict[str, float]]:
    """Time each path `rounds` times (after one warm-up), plus each JSON list's second page."""
    timings: list[float] = []
    worst: dict[str, float] = {}
    for path in paths:
        client.get(path, **headers)
        for _ in range(rounds):
            began = time.perf_counter()
            response = client.get(path, **headers)
            elapsed = (time.perf_counter() - began) * 1000
            if response.status_code != 200:
                raise SystemExit(f"GET {path} answered {response.status_code}: {response.content[:300]!r}")
            timings.append(elapsed)
            worst[path] = max(worst.get(path, 0.0), elapsed)
        match = _NEXT_CURSOR_RE.search(response.content.decode()) if path.startswith("/api/") else None
        if match:
            second = f"{path}{'&' if '?' in path else '?'}cursor={match.group(1)}"
            began = time.perf_counter()
            response = client.get(second, **headers)
            timings.append((time.perf_counter() - began) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"GET {second} answered {response.status_code}")
    return timings, worst


def _loaded(args: argparse.Namespace) -> dict[str, Any] | None:
    """The staff of a history an earlier run loaded, or None if the database is empty."""
    from firstring.accounts.models import User
    from firstring.conversations.models import Conversation, Message

    stored = (Conversation.objects.count(), Message.objects.count())
    if stored == (0, 0):
        return None
    if stored != (args.conversations, args.messages):
        raise SystemExit(
            f"the kept database holds {stored[0]} conversations and {stored[1]} messages, not "
            f"{args.conversations} and {args.messages}: run without --reuse to load it again"
        )
    return {
        "agent": User.objects.get(email="support0@example.com"),
        "manager": User.objects.get(email="manager@example.com"),
        "messages": stored[1],
        "text_source": "reused",
    }


def main(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="firstring bench inbox", description=__doc__)
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=10, help="Timed requests per page.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="Leave the loaded database behind after the run.")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="Time the history an earlier --keep run left (same sizes), migrated to the current models; "
        "load it first if there is none. Implies --keep.",
    )
    args = parser.parse_args(argv)
    if args.conversations < 1 or args.messages < args.conversations or args.rounds < 1:
        parser.error("need at least one conversation, one message per conversation and one round")

    from django.test import Client

    from firstring.accounts.services import api_token_create
    from firstring.conversations.models import Conversation, Message
    from firstring.conversations.selectors import InboxFilter, inbox_counts, inbox_page

    with bench_database("inbox", keep=args.keep, reuse=args.reuse) as vendor:
        began = time.perf_counter()
        data = _loaded(args) if args.reuse else None
        if data is None:
            data = load(conversations=args.conversations, messages=args.messages, seed=args.seed)
        load_seconds = time.perf_counter() - began
        agent, manager = data["agent"], data["manager"]

        selector_ms = []
        for user in (agent, manager):
            for view in ("all_open", "mine", "unassigned", "resolved"):
                began = time.perf_counter()
                inbox_page(user=user, filters=InboxFilter(view=view))
                inbox_counts(user=user)
                selector_ms.append((time.perf_counter() - began) * 1000)

        agent_client, manager_client = Client(), Client()
        agent_client.force_login(agent)
        manager_client.force_login(manager)
        inbox_agent, worst_agent = _time(agent_client, AGENT_PAGES, args.rounds)
        inbox_manager, worst_manager = _time(manager_client, MANAGER_PAGES, args.rounds)
        _, token = api_token_create(user=agent, name="bench")
        api_agent, worst_api = _time(Client(), API_PAGES, args.rounds, HTTP_AUTHORIZATION=f"Bearer {token}")
        _, token = api_token_create(user=manager, name="bench")
        api_manager, worst_api_m = _time(
            Client(), API_PAGES, args.rounds, HTTP_AUTHORIZATION=f"Bearer {token}"
        )
        stored = (Conversation.objects.count(), Message.objects.count())

    inbox_all = inbox_agent + inbox_manager
    api_all = api_agent + api_manager
    worst = {**worst_agent, **worst_manager, **worst_api, **worst_api_m}
    slowest = sorted(worst.items(), key=lambda item: -item[1])[:5]
    return {
        "benchmark": "inbox",
        "database": vendor,
        "conversations": stored[0],
        "messages": stored[1],
        "load_seconds": round(load_seconds, 1),
        "reused": data["text_source"] == "reused",
        "requests": len(inbox_all) + len(api_all),
        "inbox_p95_ms": round(percentile(inbox_all, 0.95), 1),
        "inbox_agent_p95_ms": round(percentile(inbox_agent, 0.95), 1),
        "inbox_manager_p95_ms": round(percentile(inbox_manager, 0.95), 1),
        "inbox_p50_ms": round(percentile(inbox_all, 0.5), 1),
        "api_p95_ms": round(percentile(api_all, 0.95), 1),
        "api_p50_ms": round(percentile(api_all, 0.5), 1),
        "selectors_p95_ms": round(percentile(selector_ms, 0.95), 1),
        "slowest_ms": {path: round(ms, 1) for path, ms in slowest},
        "text_source": data["text_source"],
    }
