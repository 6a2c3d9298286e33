"""The router: the highest-ranked waiting tasks are offered to the longest-idle eligible agents with room.

Correct under concurrency with several router processes on PostgreSQL: each decision locks its task
with SKIP LOCKED and checks it still waits, so two routers never take the same task, and an agent's row
is locked while their load is counted and an offer written, so no agent is offered more than their
capacity. On SQLite, writers are serialised by the IMMEDIATE transactions and the same code is correct.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from firstring.accounts.models import UserSkill
from firstring.channels.registry import agents_engaged, get_kind, routing_hook
from firstring.conversations import live
from firstring.conversations.models import Conversation
from firstring.routing.models import AgentState, RoutingEvent, RoutingTask
from firstring.routing.services.queue import describe_needs

# Conversations an agent handles at once, by channel kind, unless their team says otherwise.
DEFAULT_CAPACITY = {"phone": 1, "chat": 3, "default": 8}
# The relaxation steps, in order: what a task asks of its agent after waiting past each threshold.
STEPS = ("preferred skill level", "the skill at any level", "anyone on the team", "anyone available")
_AGENTS_PER_QUERY = 10
_TASKS_PER_QUERY = 100


@dataclass(frozen=True)
class Offer:
    task: RoutingTask
    agent_id: int
    step: int


def route_waiting(
    *,
    max_offers: int = 100,
    scan: int = 500,
    team_ids: Collection[int | None] | None = None,
    now: datetime | None = None,
) -> list[Offer]:
    """Offer waiting tasks, highest rank first, each to the best agent free for it.

    Considers up to `scan` tasks and makes up to `max_offers` offers. A task nobody can take yet (its
    team is away, its agents are full, its skill is rare) does not hold up the tasks behind it: the
    scan goes on, and tasks that ask for the same (team, kind, step, needs) are passed over at once,
    since within one pass loads only grow.

    `team_ids` limits the pass to those teams' queues (None in it: tasks of no team). New work routes
    through its own team's queue at once, however long other teams' backlogs are, which a pass over
    the whole queue would first have to scan; the periodic pass over every team moves tasks that waited
    long enough to go to anyone.
    """
    now = now or timezone.now()
    offers: list[Offer] = []
    if not AgentState.objects.filter(presence=AgentState.Presence.AVAILABLE).exists():
        return offers
    waiting = (
        RoutingTask.objects.filter(status=RoutingTask.Status.WAITING)
        # Teams that switched auto-assignment off pick from their queue themselves.
        .exclude(team__routing__auto_assign=False)
        .order_by("rank_at", "id")
    )
    if team_ids is not None:
        in_teams = Q(team_id__in=[team for team in team_ids if team is not None])
        waiting = waiting.filter(in_teams | Q(team__isnull=True) if None in team_ids else in_teams)
    hopeless: set[tuple[object, ...]] = set()
    considered = 0
    after: tuple[datetime, int] | None = None
    page_size = min(_TASKS_PER_QUERY, 2 * max_offers)
    last_page = False
    while len(offers) < max_offers and considered < scan and not last_page:
        page = waiting
        if after is not None:
            page = page.filter(Q(rank_at__gt=after[0]) | Q(rank_at=after[0], pk__gt=after[1]))
        wanted = min(page_size, scan - considered)
        tasks = list(
            page.values_list("pk", "rank_at", "team_id", "channel_kind", "needs", "enqueued_at")[:wanted]
        )
        # A short page is the end of the queue: no need to ask again (a new message's pass is one page).
        last_page = len(tasks) < wanted
        page_size = min(_TASKS_PER_QUERY, page_size * 2)
        for task_id, rank_at, team_id, kind, needs, enqueued_at in tasks:
            considered += 1
            after = (rank_at, task_id)
            step = _step_after(enqueued_at, now)
            alike = (team_id, kind, step, repr(needs) if step < 2 else "")
            if alike in hopeless:
                continue
            offer, nobody_free = _decide(task_id, step, now)
            if nobody_free:
                hopeless.add(alike)
            if offer is not None:
                offers.append(offer)
                if len(offers) >= max_offers:
                    break
    return offers


def route_every_queue(*, scan: int = 500, team_scan: int = 50, now: datetime | None = None) -> list[Offer]:
    """The periodic pass: the whole queue by rank, then the head of each team's queue on its own.

    The whole-queue pass gives the highest-ranked work first claim on agents shared between teams, but
    stops after `scan` tasks; a team whose work ranks behind a long backlog nobody can take yet (a rare
    skill, a team that is away) is reached by its own pass, so every waiting task is eventually offered.
    A team's pass looks at its first `team_scan` tasks only: the worker runs these passes beside the
    pipeline every beat, and deep scans of every team's backlog slowed new messages' offers.
    """
    now = now or timezone.now()
    offers = route_waiting(scan=scan, now=now)
    waiting_teams = set(
        RoutingTask.objects.filter(status=RoutingTask.Status.WAITING)
        .values_list("team_id", flat=True)
        .distinct()
        .order_by()
    )
    for team_id in sorted(waiting_teams, key=lambda team: (team is None, team or 0)):
        offers += route_waiting(team_ids=[team_id], scan=team_scan, now=now)
    return offers


def _decide(task_id: int, step: int, now: datetime) -> tuple[Offer | None, bool]:
    """One routing decision, in a transaction of its own: the offer made, and whether nobody was free.

    The task is locked only while it is decided (SKIP LOCKED: another router deciding it goes on to the
    next), so a long pass over a crowded queue never holds back the routing of new work.
    """
    with transaction.atomic():
        _commit_without_waiting_for_disk()
        task = (
            RoutingTask.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk=task_id, status=RoutingTask.Status.WAITING)
            .select_related("conversation", "team__routing")
            .first()
        )
        if task is None:
            return None, False  # another router is deciding it, or decided it already
        if not _needs_agent(task.conversation):
            _cancel(task, now, "the conversation was assigned or closed while it waited")
            return None, False
        offer = _offer_to_best_agent(task, step, now)
        return offer, offer is None


def _commit_without_waiting_for_disk() -> None:
    """Let this transaction's COMMIT return before its WAL reaches the disk (PostgreSQL).

    A decision only moves a task from waiting to offered, and an offer rings for seconds: if the server
    crashes within the fraction of a second before the write is flushed, the offer is lost, the task is
    still waiting and is routed again, and the agent's accept is refused as for an offer that expired.
    The database stays consistent (asynchronous commit never corrupts), and every decision stops
    waiting for an fsync, which under load is the slowest step of it.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


def _step_after(enqueued_at: datetime, now: datetime) -> int:
    """The relaxation step a task queued at `enqueued_at` has reached by `now`."""
    waited = (now - enqueued_at).total_seconds()
    thresholds = settings.FIRSTRING_ROUTING_RELAX_SECONDS
    return sum(1 for threshold in thresholds[: len(STEPS) - 1] if waited >= threshold)


def capacity(task: RoutingTask) -> int:
    """How many conversations of the task's kind its team lets an agent hold (team loaded with routing)."""
    configured = DEFAULT_CAPACITY
    team_routing = getattr(task.team, "routing", None) if task.team_id is not None else None
    if team_routing is not None:
        configured = {**DEFAULT_CAPACITY, **team_routing.capacity}
    return int(configured.get(task.channel_kind, configured["default"]))


@dataclass
class Load:
    """Work an agent holds, by channel kind."""

    held: Counter[str] = field(default_factory=Counter)  # open conversations assigned, and offers ringing
    ringing: Counter[str] = field(default_factory=Counter)  # offers ringing


def agent_loads(user_ids: Iterable[int]) -> dict[int, Load]:
    """Work each agent holds, by channel kind: open conversations assigned to them and offers ringing.

    Counted from the conversations themselves, so a conversation closed or reassigned anywhere frees
    its place at once; one round trip for both counts.
    """
    ids = list(user_ids)
    loads = {user_id: Load() for user_id in ids}
    assigned = (
        Conversation.objects.filter(assignee_id__in=ids, status=Conversation.Status.OPEN)
        .values_list("assignee_id", "channel__kind")
        .annotate(n=Count("id"), ringing=Value(False))
        .order_by()
    )
    offered = (
        RoutingTask.objects.filter(offered_to_id__in=ids, status=RoutingTask.Status.OFFERED)
        .values_list("offered_to_id", "channel_kind")
        .annotate(n=Count("id"), ringing=Value(True))
        .order_by()
    )
    for user_id, kind, count, ringing in assigned.union(offered, all=True):
        loads[user_id].held[kind] += count
        if ringing:
            loads[user_id].ringing[kind] += count
    return loads


def has_room(load: Load, kind: str, limit: int) -> bool:
    """Room for one more of `kind`: under the limit, and nothing ringing for the agent already.

    One offer rings at a time, so an agent answers one before the next, and work spreads across the
    agents who are free instead of piling up on the longest idle.
    """
    if sum(load.ringing.values()):
        return False
    return load.held[kind] < limit


def _needs_agent(conversation: Conversation) -> bool:
    return conversation.assignee_id is None and conversation.status == Conversation.Status.OPEN


def _candidates(task: RoutingTask, step: int, limit: int) -> QuerySet[AgentState]:
    # Agents with an offer ringing (one rings at a time, see has_room) or at the limit for the task's
    # kind are left out here, not loaded and counted ten at a time: on a busy floor a task nobody can
    # take yet would otherwise walk every agent of its team, or of the company, in chunks for nothing.
    # The count is checked again once the agent is locked.
    ringing = RoutingTask.objects.filter(offered_to_id=OuterRef("user_id"), status=RoutingTask.Status.OFFERED)
    held = (
        Conversation.objects.filter(
            assignee_id=OuterRef("user_id"),
            status=Conversation.Status.OPEN,
            channel__kind=task.channel_kind,
        )
        .order_by()
        .values("assignee_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    agents = (
        AgentState.objects.filter(presence=AgentState.Presence.AVAILABLE, user__is_active=True)
        .exclude(Exists(ringing))
        .annotate(held=Coalesce(Subquery(held), 0))
        .filter(held__lt=limit)
    )
    if task.team_id is not None and step < 3:
        agents = agents.filter(user__teams=task.team_id)
    if step < 2:
        for need in task.needs:
            level = need["level"] if step == 0 else 1
            has_skill = UserSkill.objects.filter(
                user_id=OuterRef("user_id"), skill_id=need["skill"], level__gte=level
            )
            agents = agents.filter(Exists(has_skill))
    return agents.order_by(F("last_offered_at").asc(nulls_first=True), "id")


def _offer_to_best_agent(task: RoutingTask, step: int, now: datetime) -> Offer | None:
    limit = capacity(task)
    # A call blocks new live work (chats, calls) while it lasts, whatever the capacity says.
    live = get_kind(task.channel_kind).live
    candidates = _candidates(task, step, limit)
    start = 0
    while True:
        chunk = list(candidates[start : start + _AGENTS_PER_QUERY])
        if not chunk:
            return None
        engaged = agents_engaged([state.user_id for state in chunk]) if live else set()
        for state in chunk:
            if state.user_id in engaged:
                continue
            # Lock the agent, then count again: another router may have offered them work meanwhile.
            locked = (
                AgentState.objects.select_for_update(skip_locked=True)
                .filter(pk=state.pk, presence=AgentState.Presence.AVAILABLE)
                .first()
            )
            if (
                locked is None
                or not has_room(agent_loads([state.user_id])[state.user_id], task.channel_kind, limit)
                or (live and agents_engaged([state.user_id]))
            ):
                continue
            _write_offer(task, locked, step, now)
            return Offer(task=task, agent_id=locked.user_id, step=step)
        start += _AGENTS_PER_QUERY


def _write_offer(task: RoutingTask, state: AgentState, step: int, now: datetime) -> None:
    task.status = RoutingTask.Status.OFFERED
    task.offered_to_id = state.user_id
    task.offered_at = now
    task.offer_expires_at = now + timedelta(seconds=settings.FIRSTRING_ROUTING_OFFER_SECONDS)
    task.offers += 1
    task.save(update_fields=["status", "offered_to", "offered_at", "offer_expires_at", "offers"])
    idle_since = state.last_offered_at
    state.last_offered_at = now
    state.save(update_fields=["last_offered_at"])
    notify_agent(state.user_id)
    kind, task_id = task.channel_kind, task.pk
    transaction.on_commit(lambda: routing_hook(kind, "offered", task_id))
    RoutingEvent.objects.create(
        task=task,
        agent_id=state.user_id,
        kind=RoutingEvent.Kind.OFFERED,
        data={
            "why": f"longest idle available agent with {STEPS[step]}",
            "step": step,
            "needs": describe_needs(task.needs),
            "idle_since": idle_since.isoformat() if idle_since else None,
            "waited_seconds": int((now - task.enqueued_at).total_seconds()),
        },
        created_at=now,
    )


def notify_agent(user_id: int) -> None:
    """After commit, the agent's open screens fetch their offers again (the offer rings or stops)."""
    transaction.on_commit(lambda: live.publish_notice(user_ids=[user_id], kind="offer"))


def _cancel(task: RoutingTask, now: datetime, why: str) -> None:
    task.status = RoutingTask.Status.CANCELLED
    task.finished_at = now
    task.save(update_fields=["status", "finished_at"])
    RoutingEvent.objects.create(
        task=task, kind=RoutingEvent.Kind.CANCELLED, data={"why": why}, created_at=now
    )
