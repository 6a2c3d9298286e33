"""Reads of the surveys app: CSAT and NPS over the dashboards' range and filters, and the answers behind them.

CSAT is the share of 4s and 5s among the 1-5 answers; NPS is the share of promoters (9-10) less the
share of detractors (0-6), from -100 to 100. Both read `SurveyAnswer` rows, which carry the channel,
team, agent and topic they count for (copied when the survey was asked), through the (kind, answered
at) index: a year of answers is a few hundred thousand short rows at most, grouped in one query per
table, so no rollup is kept (docs/benchmarks.md, `firstring bench dashboards`).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from firstring.insights.selectors import DashboardFilters
from firstring.surveys.models import Kind, SurveyAnswer

SCORE_GROUPS = ("agent", "team", "channel", "topic")
# Score bands of a drill-down: satisfied customers and promoters, the middle, the unhappy.
BANDS = {
    "good": (Q(kind=Kind.CSAT, score__gte=4) | Q(kind=Kind.NPS, score__gte=9)),
    "neutral": (Q(kind=Kind.CSAT, score=3) | Q(kind=Kind.NPS, score__in=(7, 8))),
    "bad": (Q(kind=Kind.CSAT, score__lte=2) | Q(kind=Kind.NPS, score__lte=6)),
}

_COUNTS = {
    "csat_answers": Count("id", filter=Q(kind=Kind.CSAT)),
    "satisfied": Count("id", filter=Q(kind=Kind.CSAT, score__gte=4)),
    "nps_answers": Count("id", filter=Q(kind=Kind.NPS)),
    "promoters": Count("id", filter=Q(kind=Kind.NPS, score__gte=9)),
    "detractors": Count("id", filter=Q(kind=Kind.NPS, score__lte=6)),
}


def answers_in(filters: DashboardFilters) -> QuerySet[SurveyAnswer]:
    """Answers given in the range, to surveys about the filters' channel, team and topic."""
    start, end = filters.bounds()
    rows = SurveyAnswer.objects.filter(answered_at__gte=start, answered_at__lt=end)
    if filters.channel_id:
        rows = rows.filter(channel_id=filters.channel_id)
    if filters.team_id:
        rows = rows.filter(team_id=filters.team_id)
    if filters.topic_id:
        rows = rows.filter(topic_id=filters.topic_id)
    return rows


def _scores(counts: dict[str, Any]) -> dict[str, Any]:
    counts = {key: counts[key] or 0 for key in _COUNTS}
    csat = round(counts["satisfied"] / counts["csat_answers"], 4) if counts["csat_answers"] else None
    nps = (
        round(100 * (counts["promoters"] - counts["detractors"]) / counts["nps_answers"], 1)
        if counts["nps_answers"]
        else None
    )
    return {**counts, "csat": csat, "nps": nps}


def survey_summary(filters: DashboardFilters) -> dict[str, Any]:
    """CSAT and NPS over the range, with the counts they are made of."""
    return _scores(answers_in(filters).aggregate(**_COUNTS))


def survey_scores(filters: DashboardFilters, *, by: str) -> list[dict[str, Any]]:
    """CSAT and NPS per agent, team, channel or topic, the most answered first."""
    if by not in SCORE_GROUPS:
        raise ValueError(f"survey scores are grouped by one of {', '.join(SCORE_GROUPS)}")
    name = "agent__name" if by == "agent" else f"{by}__name"
    rows = answers_in(filters).values(f"{by}_id", name).annotate(**_COUNTS).order_by()
    result = [
        {
            "key": row[f"{by}_id"],
            "name": row[name] or ("Unassigned" if by == "agent" else f"No {by}"),
            **_scores(row),
        }
        for row in rows
    ]
    return sorted(result, key=lambda r: (-(r["csat_answers"] + r["nps_answers"]), r["name"]))


def survey_answers(
    filters: DashboardFilters,
    *,
    kind: str = "",
    band: str = "",
    agent_id: int | None = None,
    limit: int = 200,
) -> QuerySet[SurveyAnswer]:
    """The answers behind a number, newest first, with their conversation, customer and follow-up."""
    rows = answers_in(filters)
    if kind:
        rows = rows.filter(kind=kind)
    if band:
        rows = rows.filter(BANDS[band])
    if agent_id:
        rows = rows.filter(agent_id=agent_id)
    return rows.select_related(
        "request__conversation", "request__customer", "agent", "team", "channel", "topic"
    ).order_by("-answered_at", "-id")[:limit]


def conversation_surveys(*, conversation_id: int) -> list[dict[str, Any]]:
    """The surveys about a conversation and those a low score of it opened, for its page."""
    rows = SurveyAnswer.objects.filter(
        Q(request__conversation_id=conversation_id) | Q(follow_up_id=conversation_id)
    )
    return [
        {
            "kind": answer.kind,
            "score": answer.score,
            "high": 5 if answer.kind == Kind.CSAT else 10,
            "comment": answer.comment,
            "answered_at": answer.answered_at,
            "about": answer.request.conversation_id,
            "follow_up": answer.follow_up_id,
        }
        for answer in rows.select_related("request").order_by("answered_at", "id")
    ]
