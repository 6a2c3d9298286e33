"""What agents do with offers, and their presence."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from firstring.accounts.models import User
from firstring.conversations.services import conversation_assign
from firstring.lib.errors import Conflict, InvalidInput
from firstring.routing.models import AgentState, RoutingEvent, RoutingTask
from firstring.routing.services.router import notify_agent, route_waiting

logger = logging.getLogger(__name__)


def presence_set(*, user: User, presence: str) -> AgentState:
    if presence not in AgentState.Presence.values:
        raise InvalidInput(
            f"unknown presence {presence!r}; use one of {', '.join(AgentState.Presence.values)}"
        )
    with transaction.atomic():
        state = agent_state_locked(user)
        if state.presence != presence:
            state.presence = presence
            state.presence_changed_at = timezone.now()
            fields = ["presence", "presence_changed_at"]
            if presence == AgentState.Presence.AVAILABLE:
                state.missed_offers = 0
                fields.append("missed_offers")
            state.save(update_fields=fields)
    return state


def presence_seen(*, user_id: int, now: datetime | None = None) -> None:
    """A screen of the agent's is open (a websocket connected or pinged)."""
    AgentState.objects.filter(user_id=user_id).update(last_seen_at=now or timezone.now())


def presence_idle_sweep(*, now: datetime | None = None) -> int:
    """Set away the available agents none of whose screens has been open for a while; how many."""
    now = now or timezone.now()
    minutes = settings.FIRSTRING_PRESENCE_IDLE_MINUTES
    idle = list(
        AgentState.objects.filter(
            presence=AgentState.Presence.AVAILABLE, last_seen_at__lt=now - timedelta(minutes=minutes)
        ).values_list("user_id", flat=True)[:500]
    )
    changed = 0
    for user_id in idle:
        with transaction.atomic():
            state = AgentState.objects.select_for_update().get(user_id=user_id)
            if state.presence != AgentState.Presence.AVAILABLE or state.last_seen_at is None:
                continue
            if state.last_seen_at >= now - timedelta(minutes=minutes):
                continue  # seen meanwhile
            state.presence = AgentState.Presence.AWAY
            state.presence_changed_at = now
            state.save(update_fields=["presence", "presence_changed_at"])
            RoutingEvent.objects.create(
                agent_id=user_id,
                kind=RoutingEvent.Kind.AWAY,
                data={"why": f"no screen open for {minutes} minutes"},
                created_at=now,
            )
            notify_agent(user_id)
            changed += 1
    return changed


def agent_state_locked(user: User) -> AgentState:
    AgentState.objects.get_or_create(user=user)
    return AgentState.objects.select_for_update().get(user=user)


def offer_accept(*, task: RoutingTask, agent: User) -> RoutingTask:
    """The agent takes the offered conversation: it is assigned to them."""
    now = timezone.now()
    with transaction.atomic():
        task = _locked_offer(task, agent)
        if task.offer_expires_at is not None and task.offer_expires_at <= now:
            raise Conflict("the offer has expired")
        task.status = RoutingTask.Status.ASSIGNED
        task.finished_at = now
        task.save(update_fields=["status", "finished_at"])
        state = agent_state_locked(agent)
        state.missed_offers = 0
        state.save(update_fields=["missed_offers"])
        RoutingEvent.objects.create(task=task, agent=agent, kind=RoutingEvent.Kind.ACCEPTED, created_at=now)
        notify_agent(agent.pk)
        conversation_assign(conversation=task.conversation, assignee=agent, actor=agent, routed=True)
    return task


def offer_decline(*, task: RoutingTask, agent: User) -> RoutingTask:
    """The agent passes: the task waits again, keeping its place, and goes to the next agent."""
    with transaction.atomic():
        task = _locked_offer(task, agent)
        _back_to_queue(task, agent, RoutingEvent.Kind.DECLINED, timezone.now())
        team_id = task.team_id
        transaction.on_commit(lambda: _reoffer(team_id))
    return task


def _reoffer(team_id: int | None) -> None:
    """Right after a decline, not on the worker's next beat: the task to the next agent, and the agent
    who passed, now free, to the next task."""
    try:
        route_waiting(team_ids=[team_id], max_offers=2)
    except Exception:
        # The decline is stored; the worker's periodic pass offers the work again.
        logger.exception("routing after a decline failed")


def offers_expire(*, now: datetime | None = None) -> int:
    """Offers nobody answered in time go back to the queue. Safe to run in several workers at once."""
    now = now or timezone.now()
    expired = 0
    with transaction.atomic():
        due = (
            RoutingTask.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=RoutingTask.Status.OFFERED, offer_expires_at__lte=now)
            .select_related("offered_to")
            .order_by("offer_expires_at", "id")[:500]
        )
        for task in due:
            assert task.offered_to is not None
            _back_to_queue(task, task.offered_to, RoutingEvent.Kind.TIMED_OUT, now)
            expired += 1
    return expired


def _locked_offer(task: RoutingTask, agent: User) -> RoutingTask:
    task = RoutingTask.objects.select_for_update(of=("self",)).select_related("conversation").get(pk=task.pk)
    if task.status != RoutingTask.Status.OFFERED or task.offered_to_id != agent.pk:
        raise Conflict("this conversation is not offered to you (any more)")
    return task


def _back_to_queue(task: RoutingTask, agent: User, kind: str, now: datetime) -> None:
    task.status = RoutingTask.Status.WAITING
    task.offered_to = None
    task.offered_at = None
    task.offer_expires_at = None
    task.save(update_fields=["status", "offered_to", "offered_at", "offer_expires_at"])
    RoutingEvent.objects.create(task=task, agent=agent, kind=kind, created_at=now)
    notify_agent(agent.pk)
    state = agent_state_locked(agent)
    state.missed_offers += 1
    fields = ["missed_offers"]
    if state.missed_offers >= settings.FIRSTRING_ROUTING_MISSES_BEFORE_AWAY and (
        state.presence == AgentState.Presence.AVAILABLE
    ):
        # Nobody should be rung again and again while away from the screen.
        state.presence = AgentState.Presence.AWAY
        state.presence_changed_at = now
        fields += ["presence", "presence_changed_at"]
        RoutingEvent.objects.create(
            agent=agent,
            kind=RoutingEvent.Kind.AWAY,
            data={"missed_offers": state.missed_offers},
            created_at=now,
        )
    state.save(update_fields=fields)
