"""Reads of the voice app: where a waiting caller stands, the call log, and the call-centre metrics."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Aggregate, Avg, Count, Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from firstring.insights.rollup import RollupRows
from firstring.routing.models import AgentState, RoutingTask
from firstring.voice.erlang import Staffing, agents_needed
from firstring.voice.models import Call, CallEvent

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


def calls_for_tasks(task_ids: Collection[int]) -> dict[int, Call]:
    """The calls waiting behind these routing tasks (on the line or for a callback), by task id."""
    calls = Call.objects.filter(
        routing_task_id__in=task_ids,
        status__in=[Call.Status.QUEUED, Call.Status.CALLBACK, Call.Status.CONNECTING],
    )
    return {call.routing_task_id: call for call in calls if call.routing_task_id is not None}


def agents_on_calls(user_ids: Collection[int]) -> set[int]:
    """The agents among `user_ids` on a call now: ringing through to them, or talking."""
    return set(
        Call.objects.filter(
            agent_id__in=user_ids, status__in=[Call.Status.CONNECTING, Call.Status.IN_PROGRESS]
        ).values_list("agent_id", flat=True)
    )


def call_log(*, since: datetime | None = None, limit: int = 200) -> QuerySet[Call]:
    calls = (
        Call.objects.select_related("agent", "conversation__customer")
        .annotate(
            escalated=Exists(CallEvent.objects.filter(call=OuterRef("pk"), kind=CallEvent.Kind.ESCALATED))
        )
        .order_by("-started_at", "-id")
    )
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
    callbacks: int  # promises to call back: voicemails, and callers who asked to be called back
    callbacks_kept: float | None  # share of those kept: a voicemail answered, a caller reached again
    arrivals_per_hour: float
    staffing: Staffing | None


def ended_calls(since: datetime, until: datetime) -> QuerySet[Call]:
    """The calls the figures count: those that started in [since, until) and are over."""
    return Call.objects.filter(started_at__gte=since, started_at__lt=until, status=Call.Status.ENDED)


def call_counts(*, target_seconds: int) -> dict[str, Aggregate]:
    """What the phone page and the dashboards' rollup count of calls, defined once.

    Offered: reached the queue for a person. Answered within the target: waited at most
    `target_seconds`. `answer_seconds`: the waits of the answered calls, whose mean is the ASA.
    """
    answered = Q(outcome=Call.Outcome.COMPLETED)
    return {
        "offered": Count("pk", filter=Q(queued_at__isnull=False)),
        "answered": Count("pk", filter=answered),
        "abandoned": Count("pk", filter=Q(outcome=Call.Outcome.ABANDONED)),
        "in_target": Count("pk", filter=answered & Q(wait_seconds__lte=target_seconds)),
        "answer_seconds": Sum("wait_seconds", filter=answered),
    }


def call_rollup_rows(start: datetime, end: datetime) -> RollupRows:
    """The dashboards' rollup source (registered with `insights.rollup`): the calls of [start, end),
    per channel, their conversation's team and main topic, at FIRSTRING_CALL_TARGET_SECONDS."""
    counts = call_counts(target_seconds=settings.FIRSTRING_CALL_TARGET_SECONDS)
    rows: list[Any] = list(
        ended_calls(start, end)
        .values("channel_id", "conversation__team_id", "conversation__insight__topic_id")
        .annotate(**counts)
        .order_by()
    )
    return [
        (
            (r["channel_id"], r["conversation__team_id"], r["conversation__insight__topic_id"]),
            {
                "calls_offered": r["offered"],
                "calls_answered": r["answered"],
                "calls_abandoned": r["abandoned"],
                "calls_in_target": r["in_target"],
                "answer_seconds": r["answer_seconds"] or 0,
            },
        )
        for r in rows
    ]


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
    calls = ended_calls(since, until)
    counts = calls.aggregate(
        **call_counts(target_seconds=target_seconds),
        voicemail=Count("pk", filter=Q(outcome=Call.Outcome.VOICEMAIL)),
        self_service=Count("pk", filter=Q(outcome=Call.Outcome.SELF_SERVICE)),
        talk=Avg("talk_seconds", filter=Q(outcome=Call.Outcome.COMPLETED)),
        hold=Avg("hold_seconds", filter=Q(outcome=Call.Outcome.COMPLETED)),
        called_back=Count("pk", filter=Q(callback_requested_at__isnull=False)),
        called_back_kept=Count(
            "pk", filter=Q(callback_requested_at__isnull=False, outcome=Call.Outcome.COMPLETED)
        ),
    )
    queued = counts["offered"]
    # A voicemail is a promise to call back: kept when an agent answered its conversation.
    voicemails = list(
        calls.filter(outcome=Call.Outcome.VOICEMAIL).values_list("conversation__first_response_at", flat=True)
    )
    kept = sum(1 for replied in voicemails if replied is not None) + counts["called_back_kept"]
    promises = len(voicemails) + counts["called_back"]
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
        asa_seconds=(counts["answer_seconds"] or 0) / counts["answered"] if counts["answered"] else 0.0,
        service_level=counts["in_target"] / queued if queued else None,
        target_seconds=target_seconds,
        abandonment_rate=counts["abandoned"] / queued if queued else None,
        aht_seconds=aht,
        callbacks=promises,
        callbacks_kept=kept / promises if promises else None,
        arrivals_per_hour=arrivals,
        staffing=staffing,
    )
