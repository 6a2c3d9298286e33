"""Reads of the voice app: where a waiting caller stands, the call log, and the call-centre metrics."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Avg, Count, Q, QuerySet
from django.utils import timezone

from firstring.routing.models import AgentState, RoutingTask
from firstring.voice.erlang import Staffing, agents_needed
from firstring.voice.models import Call

# Until calls were measured, a handling time to promise waits from.
DEFAULT_AHT_SECONDS = 180
AHT_SAMPLE = 200


def handling_seconds(*, team_id: int | None = None) -> float:
    """Average talk time of the latest answered calls (of the team, if given): the measured handling time."""
    answered = Call.objects.filter(outcome=Call.Outcome.COMPLETED, talk_seconds__gt=0)
    if team_id is not None:
        answered = answered.filter(conversation__team_id=team_id)
    recent = list(answered.order_by("-ended_at").values_list("talk_seconds", flat=True)[:AHT_SAMPLE])
    return sum(recent) / len(recent) if recent else float(DEFAULT_AHT_SECONDS)


@dataclass(frozen=True)
class Position:
    position: int  # 1: next in line
    expected_wait_seconds: int


def queue_position(call: Call) -> Position:
    """Where the caller stands among the phone tasks of the same team, and the wait that means.

    Expected wait: the calls ahead, and this one, handled by the team's available agents at the measured
    handling time each (at least one agent, so that the promise is never zero while nobody is free).
    """
    task = call.routing_task
    if task is None or task.status not in (RoutingTask.Status.WAITING, RoutingTask.Status.OFFERED):
        return Position(position=1, expected_wait_seconds=0)
    in_line = RoutingTask.objects.filter(
        Q(rank_at__lt=task.rank_at) | Q(rank_at=task.rank_at, pk__lt=task.pk),
        status__in=[RoutingTask.Status.WAITING, RoutingTask.Status.OFFERED],
        channel_kind="phone",
    )
    same_team = in_line.filter(team_id=task.team_id) if task.team_id else in_line.filter(team__isnull=True)
    ahead = same_team.count()
    agents = AgentState.objects.filter(presence=AgentState.Presence.AVAILABLE)
    if task.team_id is not None:
        agents = agents.filter(user__teams=task.team_id)
    free = max(1, agents.count())
    aht = handling_seconds(team_id=task.team_id)
    return Position(position=ahead + 1, expected_wait_seconds=round((ahead + 1) * aht / free))


def agents_on_calls(user_ids: Collection[int]) -> set[int]:
    """The agents among `user_ids` on a call now: ringing through to them, or talking."""
    return set(
        Call.objects.filter(
            agent_id__in=user_ids, status__in=[Call.Status.CONNECTING, Call.Status.IN_PROGRESS]
        ).values_list("agent_id", flat=True)
    )


def call_log(*, since: datetime | None = None, limit: int = 200) -> QuerySet[Call]:
    calls = Call.objects.select_related("agent", "conversation__customer").order_by("-started_at", "-id")
    if since is not None:
        calls = calls.filter(started_at__gte=since)
    return calls[:limit]


@dataclass(frozen=True)
class CallMetrics:
    period_hours: float
    offered: int  # calls that reached the queue
    answered: int
    abandoned: int
    voicemail: int
    self_service: int
    asa_seconds: float  # average wait of answered calls
    service_level: float | None  # share of queued calls answered within target_seconds
    target_seconds: int
    abandonment_rate: float | None
    aht_seconds: float  # average talk + hold time of answered calls
    callbacks_kept: float | None  # share of voicemails whose conversation got an agent's reply
    arrivals_per_hour: float
    staffing: Staffing | None


def call_metrics(
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    target_seconds: int = 20,
    target_level: float = 0.8,
) -> CallMetrics:
    """The call-centre figures of the ended calls that started in [since, until) (default: the last 24 h)."""
    until = until or timezone.now()
    since = since or until - timedelta(hours=24)
    calls = Call.objects.filter(started_at__gte=since, started_at__lt=until, status=Call.Status.ENDED)
    counts = calls.aggregate(
        answered=Count("pk", filter=Q(outcome=Call.Outcome.COMPLETED)),
        abandoned=Count("pk", filter=Q(outcome=Call.Outcome.ABANDONED)),
        voicemail=Count("pk", filter=Q(outcome=Call.Outcome.VOICEMAIL)),
        self_service=Count("pk", filter=Q(outcome=Call.Outcome.SELF_SERVICE)),
        queued=Count("pk", filter=Q(queued_at__isnull=False)),
        in_target=Count("pk", filter=Q(outcome=Call.Outcome.COMPLETED, wait_seconds__lte=target_seconds)),
        asa=Avg("wait_seconds", filter=Q(outcome=Call.Outcome.COMPLETED)),
        talk=Avg("talk_seconds", filter=Q(outcome=Call.Outcome.COMPLETED)),
        hold=Avg("hold_seconds", filter=Q(outcome=Call.Outcome.COMPLETED)),
    )
    queued = counts["queued"]
    # A voicemail is a promise to call back: kept when an agent answered its conversation.
    voicemails = list(
        calls.filter(outcome=Call.Outcome.VOICEMAIL).values_list("conversation__first_response_at", flat=True)
    )
    kept = sum(1 for replied in voicemails if replied is not None)
    hours = max((until - since).total_seconds() / 3600, 1 / 60)
    aht = float((counts["talk"] or 0) + (counts["hold"] or 0))
    arrivals = queued / hours
    staffing = (
        agents_needed(
            calls_per_hour=arrivals,
            aht_seconds=aht,
            target_level=target_level,
            target_seconds=target_seconds,
        )
        if arrivals > 0 and aht > 0
        else None
    )
    return CallMetrics(
        period_hours=hours,
        offered=queued,
        answered=counts["answered"],
        abandoned=counts["abandoned"],
        voicemail=counts["voicemail"],
        self_service=counts["self_service"],
        asa_seconds=float(counts["asa"] or 0),
        service_level=counts["in_target"] / queued if queued else None,
        target_seconds=target_seconds,
        abandonment_rate=counts["abandoned"] / queued if queued else None,
        aht_seconds=aht,
        callbacks_kept=kept / len(voicemails) if voicemails else None,
        arrivals_per_hour=arrivals,
        staffing=staffing,
    )
