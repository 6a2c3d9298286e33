"""`firstring bench ingest`: inbound messages per second through the whole receive path.

Every message goes through `receive_messages` (redelivery check, customer lookup by identity,
threading, storing, counters, after-commit live update and pipeline task) in a database of its own,
`--batch` messages per call and transaction (100 by default; 1 is a webhook's one message per call).
The traffic mixes first contacts and repeat senders, social threads and e-mail, and redeliveries.
Only the receive calls are timed; building the traffic and migrating the database are not.
"""

from __future__ import annotations

import argparse
import multiprocessing
import queue
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection

from firstring.bench._corpus import support_texts
from firstring.bench._database import bench_database, disconnect

# How long the workers may take to build their messages and meet at the start line.
_WORKER_TIMEOUT = 120


@dataclass(frozen=True)
class Plan:
    """One message to receive, in plain data so that worker processes can take it."""

    customer: int
    social: bool
    external_id: str
    thread: str
    text: str
    name: str
    with_phone: bool


def build_traffic(messages: int, seed: int, texts: list[str]) -> list[Plan]:
    """A realistic stream: 35% first contacts, repeat senders biased to recent ones, 5% redeliveries."""
    rng = random.Random(seed)
    plans: list[Plan] = []
    customers = 0
    threads: dict[int, int] = {}
    while len(plans) < messages:
        if plans and rng.random() < 0.05:
            plans.append(rng.choice(plans[-200:]))  # the channel sent the same message again
            continue
        if customers == 0 or rng.random() < 0.35:
            customers += 1
            customer = customers
        else:
            customer = max(1, customers - int(rng.expovariate(1 / 40)))
        social = customer % 5 < 3
        if customer not in threads or rng.random() < 0.25:
            threads[customer] = threads.get(customer, 0) + 1
        plans.append(
            Plan(
                customer=customer,
                social=social,
                external_id=f"m-{seed}-{len(plans)}",
                thread=f"t-{customer}-{threads[customer]}" if social else "",
                text=rng.choice(texts),
                name=f"Customer {customer}" if customer % 3 else "",
                with_phone=not social and customer % 4 == 0,
            )
        )
    return plans


def _inbounds(plans: Sequence[Plan]) -> list[Any]:
    """What the channels would hand over: normalised identities, already parsed."""
    from firstring.channels.models import Channel
    from firstring.conversations.services import Inbound
    from firstring.customers.identities import IdentityClaim, normalize_claim

    social = Channel.objects.get(slug="bench-social")
    email = Channel.objects.get(slug="bench-email")
    inbounds = []
    for plan in plans:
        if plan.social:
            claims = [IdentityClaim("handle", f"user{plan.customer}", "x")]
        else:
            claims = [IdentityClaim("email", f"customer{plan.customer}@example.com")]
            if plan.with_phone:
                claims.append(IdentityClaim("phone", f"+1415{plan.customer % 10_000_000:07d}"))
        inbounds.append(
            Inbound(
                channel=social if plan.social else email,
                claims=[normalize_claim(c) for c in claims],
                text=plan.text,
                external_id=plan.external_id,
                thread=plan.thread,
                name=plan.name,
            )
        )
    return inbounds


def _receive_all(inbounds: Sequence[Any], batch: int) -> tuple[int, int]:
    from firstring.conversations.services import receive_messages

    created = redelivered = 0
    for start in range(0, len(inbounds), batch):
        for result in receive_messages(inbounds[start : start + batch]):
            if result.created:
                created += 1
            else:
                redelivered += 1
    return created, redelivered


def _worker(plans: Sequence[Plan], batch: int, start: Any, results: Any) -> None:
    # The parent closed its connection and pool before the fork; on SQLite a connection has still been
    # seen here in a long test run, so drop whatever came across and open one of this process's own.
    connection.close()
    inbounds = _inbounds(plans)
    start.wait(timeout=_WORKER_TIMEOUT)
    results.put(_receive_all(inbounds, batch))
    disconnect()


def _collect(processes: Sequence[Any], results: Any) -> list[tuple[int, int]]:
    """Each worker's (created, redelivered); a worker that died fails the run instead of hanging it."""
    outcomes: list[tuple[int, int]] = []
    while len(outcomes) < len(processes):
        try:
            outcomes.append(results.get(timeout=1))
        except queue.Empty:
            failed = [p.exitcode for p in processes if p.exitcode not in (None, 0)]
            if failed:
                raise SystemExit(f"a receiving process failed (exit codes {failed})") from None
    return outcomes


def main(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="firstring bench ingest", description=__doc__)
    parser.add_argument("--messages", type=int, default=20_000, help="How many inbound messages to receive.")
    parser.add_argument("--workers", type=int, default=1, help="Processes receiving at the same time.")
    parser.add_argument(
        "--batch",
        type=int,
        default=100,
        help="Messages handed to receive_messages at once, as a mailbox poll, a firehose, an import or "
        "POST /api/v1/inbound/batch do (1: one message per call, as a webhook delivers them).",
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if args.messages < 1 or args.workers < 1 or args.batch < 1:
        parser.error("--messages, --workers and --batch must be at least 1")

    texts, source = support_texts(args.seed)
    plans = build_traffic(args.messages, args.seed, texts)
    with bench_database("ingest") as vendor:
        from firstring.accounts.models import Team
        from firstring.channels.models import Channel
        from firstring.conversations.models import Conversation, Message
        from firstring.customers.models import Customer

        team = Team.objects.create(name="Support", slug="support")
        Channel.objects.create(kind="api", slug="bench-social", name="Social", team=team)
        Channel.objects.create(kind="email", slug="bench-email", name="E-mail", team=team)

        if args.workers == 1:
            inbounds = _inbounds(plans)
            began = time.perf_counter()
            created, redelivered = _receive_all(inbounds, args.batch)
            seconds = time.perf_counter() - began
        else:
            # Each worker gets whole customers, as a load balancer keyed on the sender would do.
            shares: list[list[Plan]] = [[] for _ in range(args.workers)]
            for plan in plans:
                shares[plan.customer % args.workers].append(plan)
            disconnect()
            context = multiprocessing.get_context("fork")
            # The clock starts once every worker has built its messages.
            start, results = context.Barrier(args.workers + 1), context.Queue()
            processes = [
                context.Process(target=_worker, args=(share, args.batch, start, results)) for share in shares
            ]
            for process in processes:
                process.start()
            start.wait(timeout=_WORKER_TIMEOUT)
            began = time.perf_counter()
            outcomes = _collect(processes, results)
            seconds = time.perf_counter() - began
            for process in processes:
                process.join()
            created = sum(o[0] for o in outcomes)
            redelivered = sum(o[1] for o in outcomes)

        stored = Message.objects.count()
        conversations = Conversation.objects.count()
        customers = Customer.objects.count()

    return {
        "benchmark": "ingest",
        "database": vendor,
        "messages": len(plans),
        "messages_per_second": round(len(plans) / seconds, 1),
        "seconds": round(seconds, 3),
        "workers": args.workers,
        "batch": args.batch,
        "created": created,
        "redelivered": redelivered,
        "stored_messages": stored,
        "conversations": conversations,
        "customers": customers,
        "text_source": source,
    }
