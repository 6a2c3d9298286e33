"""`firstring bench route`: how long one routing decision takes with a crowded queue and many agents.

Loads `--agents` available agents (in teams, with language skills at several levels, each idle for a
different time) and `--waiting` waiting tasks (e-mail, chat and SMS conversations of every priority,
a third preferring a language at level 3, of every age, so all relaxation steps occur) into a
database of its own. Then times `--decisions` calls of `route_waiting(max_offers=1)`, each one
routing decision: claim the highest-ranked tasks, pass over those nobody can take yet, find the
longest-idle eligible agent with room for the first that somebody can, lock them, recount their
load, write the offer and its reason, commit. Between decisions (untimed) the agent accepts four offers in
five and declines the fifth, as agents do (a decline re-offers at once, and those offers are answered
the same way), so loads grow and declined work comes round again.

Then the offer latency (`offer_p95_ms`, see `_offer_latency`): with the crowd still waiting (re-queued as
of now, so that none of it has waited long enough to go to anyone), `--probes` messages to a team of
`--probe-agents` agents whose websockets are open, each timed from the inbound POST to the offers
fragment on the agent's screen, through `firstring serve` and its worker.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.utils import timezone

from firstring.bench._database import bench_database, percentile
from firstring.bench._offer_latency import measure_offer_latency

LANGUAGES = ("en", "es", "de", "fr")
KINDS = ("email", "chat", "sms")


def load(*, agents: int, waiting: int, seed: int) -> None:
    from firstring.accounts.models import Skill, Team, User, UserSkill
    from firstring.channels.models import Channel
    from firstring.conversations.models import Conversation
    from firstring.customers.models import Customer
    from firstring.routing.models import AgentState, RoutingTask
    from firstring.routing.services.queue import task_rank_at

    rng = random.Random(seed)
    now = timezone.now()
    teams = [Team.objects.create(name=f"Team {n}", slug=f"team-{n}") for n in range(min(10, agents))]
    skills = {name: Skill.objects.create(kind=Skill.Kind.LANGUAGE, name=name) for name in LANGUAGES}
    users = User.objects.bulk_create(
        User(email=f"agent{n}@example.com", name=f"Agent {n}", password=make_password(None))
        for n in range(agents)
    )
    User.teams.through.objects.bulk_create(
        User.teams.through(user_id=user.pk, team_id=teams[n % len(teams)].pk) for n, user in enumerate(users)
    )
    UserSkill.objects.bulk_create(
        UserSkill(user=user, skill=skills[name], level=rng.randint(1, 5))
        for user in users
        for name in rng.sample(LANGUAGES, rng.randint(1, 3))
    )
    AgentState.objects.bulk_create(
        AgentState(
            user=user,
            presence=AgentState.Presence.AVAILABLE,
            last_offered_at=now - timedelta(seconds=rng.randint(0, 3600)),
        )
        for user in users
    )
    channels = {
        (team.pk, kind): Channel.objects.create(kind=kind, slug=f"{kind}-{team.slug}", name=kind, team=team)
        for team in teams
        for kind in KINDS
    }
    customers = Customer.objects.bulk_create(Customer(name=f"Customer {n}") for n in range(waiting))
    conversations = []
    for customer in customers:
        team = rng.choice(teams)
        conversations.append(
            Conversation(
                channel=channels[(team.pk, rng.choice(KINDS))],
                customer=customer,
                team=team,
                priority=rng.choice([1, 2, 2, 2, 3, 4]),
                language=rng.choice(LANGUAGES),
                last_message_excerpt="Where is my order?",
                message_count=1,
            )
        )
    Conversation.objects.bulk_create(conversations, batch_size=2000)
    tasks = []
    for conversation in conversations:
        enqueued = now - timedelta(seconds=rng.randint(0, 900))
        language = skills[conversation.language]
        tasks.append(
            RoutingTask(
                conversation=conversation,
                channel_kind=conversation.channel.kind,
                team=conversation.team,
                enqueued_at=enqueued,
                rank_at=task_rank_at(conversation, enqueued),
                needs=[{"skill": language.pk, "name": language.name, "level": 3}]
                if rng.random() < 1 / 3
                else [],
            )
        )
    RoutingTask.objects.bulk_create(tasks, batch_size=2000)


def answer_ringing(rng: random.Random) -> None:
    """Agents answer every offer ringing (a decline re-offers at once, so more may ring after)."""
    from firstring.routing.models import RoutingTask
    from firstring.routing.services import offer_accept, offer_decline

    for _ in range(100):
        ringing = list(
            RoutingTask.objects.filter(status=RoutingTask.Status.OFFERED).select_related("offered_to")
        )
        if not ringing:
            return
        for task in ringing:
            assert task.offered_to is not None
            if rng.random() < 0.8:
                offer_accept(task=task, agent=task.offered_to)
            else:
                offer_decline(task=task, agent=task.offered_to)


def requeue_as_of_now() -> None:
    """Shift every waiting task's times so it was queued just now, keeping the order of the queue."""
    from firstring.routing.models import RoutingTask

    now = timezone.now()
    tasks = list(RoutingTask.objects.filter(status=RoutingTask.Status.WAITING).only("enqueued_at", "rank_at"))
    for task in tasks:
        task.rank_at = now - (task.enqueued_at - task.rank_at)
        task.enqueued_at = now
    RoutingTask.objects.bulk_update(tasks, ["enqueued_at", "rank_at"], batch_size=2000)


def main(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="firstring bench route", description=__doc__)
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--waiting", type=int, default=10_000)
    parser.add_argument("--decisions", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--probes", type=int, default=200, help="Messages timed to their offer (0: skip).")
    parser.add_argument("--probe-agents", type=int, default=10)
    args = parser.parse_args(argv)
    if min(args.agents, args.waiting, args.decisions, args.probe_agents) < 1 or args.probes < 0:
        parser.error("--agents, --waiting, --decisions and --probe-agents must be at least 1")

    with bench_database("route") as vendor:
        from firstring.routing.models import RoutingTask
        from firstring.routing.services import route_waiting

        began = time.perf_counter()
        load(agents=args.agents, waiting=args.waiting, seed=args.seed)
        load_seconds = time.perf_counter() - began
        rng = random.Random(args.seed)
        timings: list[float] = []
        offered = steps = 0
        for _ in range(args.decisions):
            started = time.perf_counter()
            offers = route_waiting(max_offers=1)
            timings.append((time.perf_counter() - started) * 1000)
            offered += len(offers)
            steps += sum(offer.step for offer in offers)
            answer_ringing(rng)
        still_waiting = RoutingTask.objects.filter(status=RoutingTask.Status.WAITING).count()
        latencies: list[float] = []
        if args.probes:
            requeue_as_of_now()
            latencies = measure_offer_latency(agents=args.probe_agents, probes=args.probes, seed=args.seed)

    return {
        "benchmark": "route",
        "database": vendor,
        "agents": args.agents,
        "waiting": args.waiting,
        "decisions": args.decisions,
        "offers": offered,
        # Decisions that found nobody free for any task they scanned.
        "no_agent": args.decisions - offered,
        "mean_step": round(steps / offered, 2) if offered else None,
        "still_waiting": still_waiting,
        "decision_p50_ms": round(percentile(timings, 0.50), 2),
        "decision_p95_ms": round(percentile(timings, 0.95), 2),
        "decision_p99_ms": round(percentile(timings, 0.99), 2),
        "probes": len(latencies),
        "offer_p50_ms": round(percentile(latencies, 0.50), 1) if latencies else None,
        "offer_p95_ms": round(percentile(latencies, 0.95), 1) if latencies else None,
        "offer_max_ms": round(max(latencies), 1) if latencies else None,
        "load_seconds": round(load_seconds, 1),
    }
