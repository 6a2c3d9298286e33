"""The managers' dashboard: how customers feel, what they write about, and whether they leave happier.

Reads the insights app's selectors (the rollup, a page of conversations at a time) and the surveys
app's (CSAT and NPS, the answers behind them); every table, the conversations and the survey answers
behind a number export as CSV with the same filters.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET, require_POST

from firstring.accounts.access import require_manager, signed_in_user
from firstring.accounts.models import Team, User
from firstring.channels.models import Channel
from firstring.community import selectors as community_selectors
from firstring.insights import selectors
from firstring.insights.emerging import emerging_topics
from firstring.insights.topic_services import topic_create_from_emerging
from firstring.lib.errors import InvalidInput
from firstring.lib.spreadsheet import safe_cell
from firstring.surveys import selectors as surveys
from firstring.surveys.models import Kind
from firstring.web import charts
from firstring.web.errors import agent_view
from firstring.web.forms import valid

MAX_DAYS = 366
# The community's line in the tone chart and the tone table: members' posts, not a channel's messages.
COMMUNITY = "Community posts"
# Conversations in one CSV export; narrow the filters for more.
MAX_EXPORT_ROWS = 50_000


class DashboardForm(forms.Form):
    since = forms.DateField(required=False)
    until = forms.DateField(required=False)
    channel = forms.IntegerField(required=False, min_value=1)
    team = forms.IntegerField(required=False, min_value=1)
    topic = forms.IntegerField(required=False, min_value=1)
    tone = forms.ChoiceField(
        required=False,
        choices=[(c, c) for c in ("", "negative", "neutral", "positive", "improved", "worsened", "urgent")],
    )
    service = forms.ChoiceField(
        required=False, choices=[("", ""), *((k, k) for k in selectors.SERVICE_DRILLS)]
    )
    day = forms.DateField(required=False)
    kind = forms.ChoiceField(required=False, choices=[("", ""), *Kind.choices])
    band = forms.ChoiceField(required=False, choices=[(b, b) for b in ("", *surveys.BANDS)])
    agent = forms.IntegerField(required=False, min_value=1)


def _manager(request: HttpRequest) -> User:
    return require_manager(signed_in_user(request), "the dashboard is for managers")


def _filters(request: HttpRequest) -> tuple[selectors.DashboardFilters, dict[str, Any]]:
    data = valid(DashboardForm(request.GET))
    until = data["until"] or timezone.localdate()
    since = data["since"] or until - dt.timedelta(days=29)
    if since > until:
        raise InvalidInput("the range must start before it ends")
    if (until - since).days >= MAX_DAYS:
        raise InvalidInput(f"the range spans at most {MAX_DAYS} days")
    filters = selectors.DashboardFilters(
        since=since, until=until, channel_id=data["channel"], team_id=data["team"], topic_id=data["topic"]
    )
    return filters, data


def _community_rows(filters: selectors.DashboardFilters) -> list[dict[str, Any]]:
    """Members' posts per day and tone; none when a channel or team is chosen (posts have neither)."""
    if filters.channel_id or filters.team_id:
        return []
    start, end = filters.bounds()
    return community_selectors.post_tone_by_day(start=start, end=end, topic_id=filters.topic_id)


def _query(filters: selectors.DashboardFilters, **extra: Any) -> str:
    from urllib.parse import urlencode

    params = {"since": filters.since.isoformat(), "until": filters.until.isoformat()}
    for name, value in (
        ("channel", filters.channel_id),
        ("team", filters.team_id),
        ("topic", filters.topic_id),
    ):
        if value:
            params[name] = str(value)
    params.update({k: str(v) for k, v in extra.items() if v})
    return urlencode(params)


@require_GET
@agent_view
def dashboard(request: HttpRequest) -> HttpResponse:
    _manager(request)
    filters, _data = _filters(request)
    over_time = selectors.tone_over_time(filters)
    by_channel: dict[str, dict[dt.date, float]] = defaultdict(dict)
    volume: dict[dt.date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in over_time:
        by_channel[row["channel"]][row["day"]] = row["mean_tone"]
        for tone in ("negative", "neutral", "positive"):
            volume[row["day"]][tone] += row[tone]
    community = _community_rows(filters)
    for row in community:
        by_channel[COMMUNITY][row["day"]] = row["mean_tone"]
    series = [charts.Series(name, points) for name, points in sorted(by_channel.items())]
    topics = selectors.top_topics(filters)
    most = max((t["messages"] for t in topics), default=0)
    for topic in topics:
        topic["bar"] = charts.bar(topic["messages"], high=most)
        topic["query"] = _query(filters, topic=topic["topic_id"])
    lift = {by: selectors.tone_lift(filters, by=by) for by in selectors.LIFT_GROUPS}
    survey_scores = {by: surveys.survey_scores(filters, by=by) for by in surveys.SCORE_GROUPS}
    for by, rows in survey_scores.items():
        for row in rows:
            # The answers behind a row: its agent, or the dashboard narrowed to its team, channel or topic.
            row["query"] = (
                _query(filters, agent=row["key"] or "")
                if by == "agent"
                else _query(filters, **{by: row["key"] or ""})
            )
    service = selectors.service_levels(filters)
    for by in selectors.SERVICE_GROUPS:
        for row in service[by]:
            row["query"] = _query(filters, **{by: row["key"] or ""})
    context = {
        "filters": filters,
        "query": _query(filters),
        "summary": selectors.summary(filters),
        **_service_charts(filters),
        "service": service["total"],
        "service_rows": {by: service[by] for by in selectors.SERVICE_GROUPS},
        "service_drill": {name: _query(filters, service=name) for name in selectors.SERVICE_DRILLS},
        "call_target": settings.FIRSTRING_CALL_TARGET_SECONDS,
        "tone_chart": charts.line_chart(
            series,
            since=filters.since,
            until=filters.until,
            low=-1,
            high=1,
            title="Mean customer tone by channel",
        ),
        "tone_legend": charts.legend([s.name for s in series]),
        "volume_chart": charts.stacked_bars(
            volume, since=filters.since, until=filters.until, title="Customer messages per day by tone"
        ),
        "topics": topics,
        "community": {
            "posts": sum(r["posts"] for r in community),
            "negative": sum(r["negative"] for r in community),
            "positive": sum(r["positive"] for r in community),
            "topics": community_selectors.post_topics(start=filters.bounds()[0], end=filters.bounds()[1])
            if community
            else [],
            "shown": not (filters.channel_id or filters.team_id),
        },
        "community_label": COMMUNITY,
        "lift": lift,
        "surveys": surveys.survey_summary(filters),
        "survey_scores": survey_scores,
        "survey_drill": {
            f"{kind}_{band or 'all'}": _query(filters, kind=kind, band=band)
            for kind in Kind.values
            for band in ("", *surveys.BANDS)
        },
        "channels": Channel.objects.order_by("name"),
        "teams": Team.objects.order_by("name"),
        "topic_choices": selectors.active_topics(),
        "drill": {
            tone: _query(filters, tone=tone)
            for tone in ("negative", "positive", "improved", "worsened", "urgent")
        },
    }
    return render(request, "web/insights.html", context)


def _service_charts(filters: selectors.DashboardFilters) -> dict[str, Any]:
    """Per day, in percent: targets met among those settled, and queued calls answered in time or lost."""
    days = selectors.service_over_time(filters)

    def percent(figure: str) -> dict[dt.date, float]:
        return {day: 100 * v[figure] for day, v in days.items() if v[figure] is not None}

    targets = [
        charts.Series("First response on time", percent("first_response_attainment")),
        charts.Series("Resolved on time", percent("resolution_attainment")),
    ]
    calls = [
        charts.Series(
            f"Answered within {settings.FIRSTRING_CALL_TARGET_SECONDS} s", percent("service_level")
        ),
        charts.Series("Abandoned", percent("abandonment_rate")),
    ]

    def chart(series: list[charts.Series], title: str) -> SafeString:
        return charts.line_chart(
            series, since=filters.since, until=filters.until, low=0, high=100, title=title
        )

    return {
        "service_chart": chart(targets, "Service-level targets met per day, %"),
        "service_legend": charts.legend([s.name for s in targets]),
        "calls_chart": chart(calls, "Calls answered in time and abandoned per day, %"),
        "calls_legend": charts.legend([s.name for s in calls]),
    }


@require_GET
@agent_view
def drill_down(request: HttpRequest) -> HttpResponse:
    _manager(request)
    filters, data = _filters(request)
    rows = selectors.drill_down(
        filters, tone=data["tone"], service=data["service"], day=data["day"], limit=200
    )
    context = {
        "filters": filters,
        "rows": rows,
        "tone": data["tone"],
        "service": SERVICE_LABELS.get(data["service"], ""),
        "day": data["day"],
        "query": _query(
            filters,
            tone=data["tone"],
            service=data["service"],
            day=data["day"].isoformat() if data["day"] else "",
        ),
        "back": _query(filters),
    }
    return render(request, "web/insights_conversations.html", context)


@require_GET
@agent_view
def survey_answers(request: HttpRequest) -> HttpResponse:
    _manager(request)
    filters, data = _filters(request)
    rows = surveys.survey_answers(
        filters, kind=data["kind"], band=data["band"], agent_id=data["agent"], limit=200
    )
    extra = {"kind": data["kind"], "band": data["band"], "agent": data["agent"]}
    context = {
        "filters": filters,
        "rows": rows,
        "kind": data["kind"],
        "band": data["band"],
        "query": _query(filters, **extra),
        "back": _query(filters),
    }
    return render(request, "web/insights_surveys.html", context)


class EmergingForm(forms.Form):
    days = forms.IntegerField(required=False, min_value=1, max_value=90)


class EmergingNameForm(EmergingForm):
    name = forms.CharField(max_length=80, strip=True)


@require_GET
@agent_view
def emerging(request: HttpRequest) -> HttpResponse:
    _manager(request)
    days = valid(EmergingForm(request.GET))["days"] or settings.FIRSTRING_EMERGING_DAYS
    context = {"clusters": emerging_topics(days=days), "days": days, "created": request.GET.get("created")}
    return render(request, "web/insights_emerging.html", context)


@require_POST
@agent_view
def emerging_name(request: HttpRequest, key: int) -> HttpResponse:
    """One click names a cluster: a topic with its messages as examples; back to the page."""
    user = _manager(request)
    data = valid(EmergingNameForm(request.POST))
    days = data["days"] or settings.FIRSTRING_EMERGING_DAYS
    topic = topic_create_from_emerging(user=user, name=data["name"], key=key, days=days)
    return redirect(f"{reverse('web:insights-emerging')}?days={days}&created={topic.pk}")


SERVICE_LABELS = {
    "unanswered": "not answered yet",
    "resolved": "resolved",
    "unresolved": "not resolved",
    "first_response_missed": "first response missed",
    "resolution_missed": "resolution missed",
    "calls": "with calls",
    "abandoned": "with abandoned calls",
}
EXPORTS = (
    "tone",
    "topics",
    "lift-channel",
    "lift-team",
    "lift-topic",
    "lift-agent",
    "service-channel",
    "service-team",
    "service-topic",
    "conversations",
    "surveys-agent",
    "surveys-team",
    "surveys-channel",
    "surveys-topic",
    "survey-answers",
)


def _csv_rows(filters: selectors.DashboardFilters, table: str, data: dict[str, Any]) -> Iterator[list[Any]]:
    if table == "tone":
        yield ["day", "channel", "messages", "negative", "neutral", "positive", "urgent", "mean_tone"]
        for r in selectors.tone_over_time(filters):
            yield [
                r["day"],
                r["channel"],
                r["messages"],
                r["negative"],
                r["neutral"],
                r["positive"],
                r["urgent"],
                r["mean_tone"],
            ]
        for r in _community_rows(filters):
            yield [
                r["day"],
                COMMUNITY,
                r["posts"],
                r["negative"],
                r["neutral"],
                r["positive"],
                "",
                r["mean_tone"],
            ]
    elif table == "topics":
        yield ["topic", "messages", "negative_share", "positive_share"]
        for t in selectors.top_topics(filters, limit=1000, examples=0):
            yield [t["topic"], t["messages"], t["negative_share"], t["positive_share"]]
    elif table.startswith("surveys-"):
        by = table.removeprefix("surveys-")
        yield [by, "csat_answers", "csat", "nps_answers", "nps", "promoters", "detractors"]
        for r in surveys.survey_scores(filters, by=by):
            yield [
                r["name"],
                r["csat_answers"],
                "" if r["csat"] is None else r["csat"],
                r["nps_answers"],
                "" if r["nps"] is None else r["nps"],
                r["promoters"],
                r["detractors"],
            ]
    elif table == "survey-answers":
        yield [
            "answer", "answered_at", "kind", "score", "comment", "conversation", "customer", "agent", "team",
            "channel", "topic", "via", "follow_up",
        ]  # fmt: skip
        answers = surveys.survey_answers(
            filters, kind=data["kind"], band=data["band"], agent_id=data["agent"], limit=MAX_EXPORT_ROWS
        )
        for a in answers.iterator(chunk_size=2000):
            yield [
                a.pk, a.answered_at.isoformat(), a.kind, a.score, a.comment, a.request.conversation_id,
                a.request.customer.display_name, a.agent.email if a.agent else "",
                a.team.name if a.team else "", a.channel.name, a.topic.name if a.topic else "", a.via,
                a.follow_up_id or "",
            ]  # fmt: skip
    elif table.startswith("service-"):
        by = table.removeprefix("service-")
        yield [
            by, "conversations", "replied", "first_response_mean_seconds", "first_response_met",
            "first_response_missed", "resolved", "resolution_mean_seconds", "resolution_met",
            "resolution_missed", "calls_offered", "calls_answered", "asa_seconds",
            f"answered_within_{settings.FIRSTRING_CALL_TARGET_SECONDS}s", "calls_abandoned",
        ]  # fmt: skip
        for r in selectors.service_levels(filters)[by]:
            yield [
                r["name"], r["conversations"], r["responded"], _blank(r["response_mean"]),
                r["first_response_met"], r["first_response_missed"], r["resolved"],
                _blank(r["resolution_mean"]), r["resolution_met"], r["resolution_missed"], r["calls_offered"],
                r["calls_answered"], _blank(r["asa_seconds"]), r["calls_in_target"], r["calls_abandoned"],
            ]  # fmt: skip
    elif table.startswith("lift-"):
        yield [table.removeprefix("lift-"), "conversations", "mean_lift", "improved_share", "worsened_share"]
        for r in selectors.tone_lift(filters, by=table.removeprefix("lift-")):
            yield [r["name"], r["lifted"], r["mean_lift"], r["improved_share"], r["worsened_share"]]
    else:
        yield [
            "conversation", "started_at", "channel_id", "team_id", "assignee", "status", "topic", "language",
            "urgent", "urgency", "customer_messages", "tone_first", "tone_latest", "tone_lift",
            "first_response_at", "resolved_at",
        ]  # fmt: skip
        rows = selectors.drill_down(
            filters, tone=data["tone"], service=data["service"], day=data["day"], limit=MAX_EXPORT_ROWS
        )
        for i in rows.iterator(chunk_size=2000):
            c = i.conversation
            yield [
                c.pk, i.started_at.isoformat(), i.channel_id, c.team_id or "",
                c.assignee.email if c.assignee else "",
                c.status, i.topic.name if i.topic else "", i.language, i.urgent, " ".join(i.urgency),
                i.customer_messages, c.tone_first, c.tone_latest, "" if i.tone_lift is None else i.tone_lift,
                c.first_response_at.isoformat() if c.first_response_at else "",
                c.resolved_at.isoformat() if c.resolved_at else "",
            ]  # fmt: skip


def _blank(value: float | None) -> float | str:
    return "" if value is None else value


@require_GET
@agent_view
def export(request: HttpRequest, table: str) -> HttpResponse:
    _manager(request)
    if table not in EXPORTS:
        raise InvalidInput(f"export one of {', '.join(EXPORTS)}")
    filters, data = _filters(request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    writer = csv.writer(response)
    for row in _csv_rows(filters, table, data):
        writer.writerow([safe_cell(v) for v in row])
    name = f"firstring-{table}-{filters.since.isoformat()}-{filters.until.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
